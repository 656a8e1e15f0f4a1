# mistake: ex01.shape-not-checked
# why: compares numel() instead of the shapes, so (4, 1) against (4,) is let through and broadcasts
import torch


def mse_loss(input, target, reduction="mean"):
    if input.numel() != target.numel():
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    sq = (input - target) ** 2
    if reduction == "none":
        return sq
    return sq.sum() if reduction == "sum" else sq.mean()

# mistake: ex01.none-flattened
# why: "none" returns the errors flattened to 1-D, not in the input's shape
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    sq = ((input - target) ** 2).flatten()
    if reduction == "none":
        return sq
    return sq.sum() if reduction == "sum" else sq.mean()

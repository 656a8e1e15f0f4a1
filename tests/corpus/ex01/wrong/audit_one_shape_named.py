# mistake: ex01.shape-message-incomplete
# why: the error message names only the input's shape
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"target does not match the input shape {tuple(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    sq = (input - target) ** 2
    if reduction == "none":
        return sq
    return sq.sum() if reduction == "sum" else sq.mean()

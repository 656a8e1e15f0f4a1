# mistake: ex01.absolute-errors
# why: takes the absolute error instead of the square (that is L1)
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    e = (input - target).abs()
    if reduction == "none":
        return e
    return e.sum() if reduction == "sum" else e.mean()

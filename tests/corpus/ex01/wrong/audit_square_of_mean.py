# mistake: ex01.square-of-mean
# why: averages the errors first and squares the mean
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    d = input - target
    if reduction == "none":
        return d ** 2
    if reduction == "sum":
        return d.sum() ** 2
    return d.mean() ** 2

# mistake: ex01.reduction-not-checked
# why: an unknown reduction silently falls through to the mean
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    sq = (input - target) ** 2
    if reduction == "none":
        return sq
    if reduction == "sum":
        return sq.sum()
    return sq.mean()

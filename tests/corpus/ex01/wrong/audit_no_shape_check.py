# mistake: ex01.shape-not-checked
# why: never compares the shapes, so (N, 1) against (N,) broadcasts to (N, N) as torch does
import torch


def mse_loss(input, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    sq = (input - target) ** 2
    if reduction == "none":
        return sq
    return sq.sum() if reduction == "sum" else sq.mean()

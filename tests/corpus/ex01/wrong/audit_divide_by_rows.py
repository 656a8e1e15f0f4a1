# mistake: ex01.divide-by-rows
# why: divides the total by the batch size (rows), not by the number of elements
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    sq = (input - target) ** 2
    if reduction == "none":
        return sq
    if reduction == "sum":
        return sq.sum()
    n = input.shape[0] if input.dim() > 0 else 1
    return sq.sum() / n

# why: sums along every dimension one at a time, then divides by the product of the sizes
import math

import torch


def mse_loss(input, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction!r}: reduction must be 'mean', 'sum' or 'none'")
    if input.dim() != target.dim() or any(a != b for a, b in zip(input.shape, target.shape)):
        raise ValueError(f"input shape {tuple(input.shape)} does not match target shape {tuple(target.shape)}")
    sq = (input - target) ** 2
    if reduction == "none":
        return sq
    total = sq
    while total.dim() > 0:
        total = total.sum(dim=0)
    if reduction == "sum":
        return total
    return total / math.prod(input.shape)

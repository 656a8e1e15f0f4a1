# why: the sum of squares as an einsum dot product of the flattened error with itself
import torch


def mse_loss(input, target, reduction="mean"):
    if list(input.shape) != list(target.shape):
        raise ValueError(f"input {list(input.shape)} and target {list(target.shape)} must have the same shape")
    if reduction == "none":
        return (input - target).pow(2)
    if reduction not in ("sum", "mean"):
        raise ValueError(f"bad reduction: {reduction}")
    d = (input - target).flatten()
    s = torch.einsum("i,i->", d, d)
    if reduction == "sum":
        return s
    return s / d.numel()

# mistake: ex01.upcast-low-precision
# why: converts to float32 first, so a float64 input gives a float32 loss
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    sq = (input.float() - target.float()) ** 2
    if reduction == "none":
        return sq
    return sq.sum() if reduction == "sum" else sq.mean()

# why: takes |d| with torch.where before squaring, and divides the sum by numel
import torch


def mse_loss(input, target, reduction="mean"):
    if not (input.shape == target.shape):
        raise ValueError(f"mse_loss: input.shape={tuple(input.shape)} != target.shape={tuple(target.shape)}")
    if reduction not in ["mean", "sum", "none"]:
        raise ValueError("invalid reduction")
    d = input - target
    a = torch.where(d < 0, -d, d)
    sq = a * a
    if reduction == "none":
        return sq
    s = sq.sum()
    return s if reduction == "sum" else s / input.numel()

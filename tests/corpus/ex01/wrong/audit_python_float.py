# mistake: ex01.returns-python-number
# why: returns a Python float (.item()) for "mean" and "sum"
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    sq = (input - target) ** 2
    if reduction == "none":
        return sq
    return sq.sum().item() if reduction == "sum" else sq.mean().item()

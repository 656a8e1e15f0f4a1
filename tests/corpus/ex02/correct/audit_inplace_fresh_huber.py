# why: Huber written with in-place ops on a fresh copy of |d| (clone), never on the inputs
import torch


def mean_error(input, target):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    return (input - target).mean()


def l1_loss(input, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    a = (input - target).abs()
    return a if reduction == "none" else (a.sum() if reduction == "sum" else a.mean())


def huber_loss(input, target, reduction="mean", delta=1.0):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("reduction must be mean, sum or none")
    if delta <= 0:
        raise ValueError("delta must be > 0")
    a = (input - target).abs()
    quad = a.pow(2).mul(0.5)
    lin = a.sub(0.5 * delta).mul(delta)
    out = torch.where(a >= delta, lin, quad)
    if reduction == "none":
        return out
    total = out.sum()
    if reduction == "mean":
        total = total / out.numel()
    return total

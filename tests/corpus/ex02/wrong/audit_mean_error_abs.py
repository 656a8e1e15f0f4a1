# mistake: ex02.mean-error-abs
# why: mean_error averages |d|, so errors never cancel
import torch


def mean_error(input, target):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    return (input - target).abs().mean()

def l1_loss(input, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    a = (input - target).abs()
    return a if reduction == "none" else (a.sum() if reduction == "sum" else a.mean())


def huber_loss(input, target, reduction="mean", delta=1.0):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    if delta <= 0:
        raise ValueError(f"delta must be > 0, got {delta}")
    d = input - target
    a = d.abs()
    out = torch.where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta))
    return out if reduction == "none" else (out.sum() if reduction == "sum" else out.mean())

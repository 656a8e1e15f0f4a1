# why: Huber as q*(|d| - q/2) with q = min(|d|, delta): one formula, no branch
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
    if reduction not in {"mean", "sum", "none"}:
        raise ValueError(f"reduction must be mean/sum/none, not {reduction!r}")
    if delta <= 0:
        raise ValueError(f"delta={delta} must be positive")
    a = (input - target).abs()
    q = a.clamp(max=delta)
    out = q * (a - 0.5 * q)
    if reduction == "mean":
        return out.mean()
    if reduction == "sum":
        return out.sum()
    return out

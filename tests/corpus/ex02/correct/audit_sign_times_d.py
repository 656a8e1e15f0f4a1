# why: L1 as sign(d) * d; mean_error validates with a helper that names both shapes
import torch


def _same(a, b):
    if a.shape != b.shape:
        raise ValueError(f"input is {a.shape}, target is {b.shape}: they must match")

def mean_error(input, target):
    _same(input, target)
    return torch.mean(input - target)

def l1_loss(input, target, reduction="mean"):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction)
    d = input - target
    out = torch.sign(d) * d
    if reduction == "none":
        return out
    return torch.sum(out) if reduction == "sum" else torch.mean(out)

def huber_loss(input, target, reduction="mean", delta=1.0):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    if delta <= 0:
        raise ValueError(f"delta must be > 0, got {delta}")
    a = (input - target).abs()
    out = torch.where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta))
    return out if reduction == "none" else (out.sum() if reduction == "sum" else out.mean())


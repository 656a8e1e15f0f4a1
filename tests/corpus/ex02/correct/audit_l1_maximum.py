# why: L1 as maximum(d, -d); Huber branches chosen with torch.where on the signed error
import torch


def mean_error(input, target):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    return (input - target).mean()


def l1_loss(input, target, reduction="mean"):
    valid = ("mean", "sum", "none")
    if reduction not in valid:
        raise ValueError(f"reduction={reduction!r}, expected one of {valid}")
    d = input - target
    e = torch.maximum(d, -d)
    if reduction == "none":
        return e
    return e.sum() if reduction == "sum" else e.mean()

def huber_loss(input, target, reduction="mean", delta=1.0):
    valid = ("mean", "sum", "none")
    if delta <= 0:
        raise ValueError(f"delta must be strictly positive (got {delta})")
    if reduction not in valid:
        raise ValueError(f"reduction={reduction!r}, expected one of {valid}")
    d = input - target
    inner = (d > -delta) & (d < delta)
    lin = torch.where(d >= 0, delta * (d - 0.5 * delta), delta * (-d - 0.5 * delta))
    e = torch.where(inner, 0.5 * d * d, lin)
    if reduction == "none":
        return e
    return e.sum() if reduction == "sum" else e.mean()

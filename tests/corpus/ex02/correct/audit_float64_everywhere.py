# why: every function computes in float64 and casts back to the input dtype
import torch


def mean_error(input, target):
    if input.shape != target.shape:
        raise ValueError(f"{input.shape} != {target.shape}")
    return (input.double() - target.double()).mean().to(input.dtype)

def _reduce(x, reduction, dtype):
    if reduction == "none":
        return x.to(dtype)
    if reduction == "sum":
        return x.sum().to(dtype)
    return x.mean().to(dtype)

def l1_loss(input, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("reduction must be mean, sum or none")
    return _reduce((input.double() - target.double()).abs(), reduction, input.dtype)

def huber_loss(input, target, reduction="mean", delta=1.0):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("reduction must be mean, sum or none")
    if delta <= 0:
        raise ValueError("delta must be > 0")
    a = (input.double() - target.double()).abs()
    out = torch.where(a < delta, 0.5 * a.pow(2), delta * (a - 0.5 * delta))
    return _reduce(out, reduction, input.dtype)

# why: Huber by boolean-mask assignment into a fresh tensor; mean_error as sum/numel
import torch


def l1_loss(input, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    a = (input - target).abs()
    return a if reduction == "none" else (a.sum() if reduction == "sum" else a.mean())


def mean_error(input, target):
    if input.shape != target.shape:
        raise ValueError("input shape " + str(list(input.shape)) + " != target shape " + str(list(target.shape)))
    d = input - target
    return d.sum() / d.numel()

def huber_loss(input, target, reduction="mean", delta=1.0):
    if not delta > 0:
        raise ValueError("delta has to be positive")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("reduction?")
    d = input - target
    a = d.abs()
    out = 0.5 * d * d
    big = a >= delta
    out[big] = delta * (a[big] - 0.5 * delta)
    if reduction == "none":
        return out
    return out.sum() if reduction == "sum" else out.mean()

# why: log(1 - p) as log1p(-p); validation order: range first
import torch


def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction!r}")
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    zero = torch.zeros_like(input)
    log_p = -torch.logaddexp(zero, -input)
    log_q = -torch.logaddexp(zero, input)
    w = 1 if pos_weight is None else pos_weight
    out = -(w * target * log_p + (1 - target) * log_q)
    return out if reduction == "none" else (out.sum() if reduction == "sum" else out.mean())


def binary_cross_entropy(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"input {tuple(input.shape)} and target {tuple(target.shape)} must match")
    bad = (input < 0) | (input > 1)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} input value(s) outside [0, 1]")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("reduction must be mean, sum or none")
    a = torch.log(input).clamp(min=-100)
    b = torch.log1p(-input).clamp(min=-100)
    out = -(target * a + (1 - target) * b)
    if reduction == "none":
        return out
    if reduction == "sum":
        return out.sum()
    return out.mean()

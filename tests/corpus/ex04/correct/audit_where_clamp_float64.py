# why: BCE in float64 with torch.where for the -100 floor, cast back
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
    if reduction not in {"mean", "sum", "none"}:
        raise ValueError("reduction must be mean, sum or none")
    if target.shape != input.shape:
        raise ValueError(f"target size {list(target.shape)} must equal input size {list(input.shape)}")
    if input.numel() and (input.min() < 0 or input.max() > 1):
        raise ValueError("input must lie in [0, 1]: did you pass logits?")
    p, y = input.double(), target.double()
    lp, lq = torch.log(p), torch.log(1 - p)
    lp = torch.where(lp < -100, torch.full_like(lp, -100.0), lp)
    lq = torch.where(lq < -100, torch.full_like(lq, -100.0), lq)
    out = -(y * lp + (1 - y) * lq)
    if reduction == "mean":
        out = out.mean()
    elif reduction == "sum":
        out = out.sum()
    return out.to(input.dtype)

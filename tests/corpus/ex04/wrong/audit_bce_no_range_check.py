# mistake: ex04.range-not-checked
# why: never checks that the input is a probability (a logit goes through)
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
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction!r}")
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")

    lp = torch.clamp(torch.log(input), min=-100)
    lq = torch.clamp(torch.log(1 - input), min=-100)
    out = -(target * lp + (1 - target) * lq)
    return out if reduction == "none" else (out.sum() if reduction == "sum" else out.mean())

# why: softplus by torch.where on the sign with both branches kept finite (exp of -|x| only)
import torch


def binary_cross_entropy(input, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction!r}")
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if ((input < 0) | (input > 1)).any():
        raise ValueError("all inputs must be probabilities in [0, 1]")
    lp = torch.clamp(torch.log(input), min=-100)
    lq = torch.clamp(torch.log(1 - input), min=-100)
    out = -(target * lp + (1 - target) * lq)
    return out if reduction == "none" else (out.sum() if reduction == "sum" else out.mean())


def _softplus(x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), written without a kink:
    pos = x > 0
    safe = torch.where(pos, -x, x)          # always <= 0, so exp never overflows
    return torch.where(pos, x, torch.zeros_like(x)) + torch.log1p(torch.exp(safe))

def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None):
    if input.shape != target.shape:
        raise ValueError(f"input {tuple(input.shape)} vs target {tuple(target.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("reduction must be mean, sum or none")
    log_p = -_softplus(-input)
    log_q = -_softplus(input)
    if pos_weight is None:
        out = -(target * log_p + (1 - target) * log_q)
    else:
        out = -(pos_weight * target * log_p + (1 - target) * log_q)
    if reduction == "none":
        return out
    return out.sum() if reduction == "sum" else out.mean()

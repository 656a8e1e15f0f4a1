# mistake: ex04.naive-softplus
# why: log1p(exp(-x)) without the abs: exp(1e4) overflows for a logit of -1e4
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

def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction!r}")
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    w = 1 if pos_weight is None else pos_weight
    nls = torch.log1p(torch.exp(-input))           # -log sigmoid(x)
    out = w * target * nls + (1 - target) * (input + nls)
    return out if reduction == "none" else (out.sum() if reduction == "sum" else out.mean())

# why: the stable formula evaluated in two masked halves assigned into a fresh tensor
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
        raise ValueError("reduction must be mean, sum or none")
    if input.shape != target.shape:
        raise ValueError(f"{tuple(input.shape)} != {tuple(target.shape)}")
    x = input
    zero = torch.zeros_like(x)
    # -log sigmoid(x) and -log(1 - sigmoid(x)) through logaddexp, then combine
    nls_pos = torch.logaddexp(zero, -x)
    nls_neg = nls_pos + x
    pw = 1.0 if pos_weight is None else pos_weight
    out = pw * target * nls_pos + (1 - target) * nls_neg
    if reduction == "none":
        return out
    return out.sum() if reduction == "sum" else out.mean()

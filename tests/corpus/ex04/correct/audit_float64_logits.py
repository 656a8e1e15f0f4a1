# why: logits form computed in float64 with logaddexp, cast back; pos_weight cast too
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
        raise ValueError(f"reduction {reduction} invalid")
    if input.shape != target.shape:
        raise ValueError(f"input shape {list(input.shape)} != target shape {list(target.shape)}")
    x, y = input.double(), target.double()
    zero = torch.zeros_like(x)
    sp_pos = torch.logaddexp(zero, x)      # -log(1 - sigmoid(x))
    sp_neg = torch.logaddexp(zero, -x)     # -log(sigmoid(x))
    if pos_weight is not None:
        out = pos_weight.double() * y * sp_neg + (1 - y) * sp_pos
    else:
        out = y * sp_neg + (1 - y) * sp_pos
    if reduction == "sum":
        out = out.sum()
    elif reduction == "mean":
        out = out.mean()
    return out.to(input.dtype)

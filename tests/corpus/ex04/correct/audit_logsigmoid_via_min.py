# why: log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)) with the kink handled by torch.minimum's tie rule
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
        raise ValueError("bad reduction")
    if input.shape != target.shape:
        raise ValueError(f"shape mismatch {input.shape} / {target.shape}")
    z = torch.zeros_like(input)
    tail = torch.log1p(torch.exp(-input.abs()))
    ls_pos = torch.minimum(input, z) - tail
    ls_neg = torch.minimum(-input, z) - tail
    pw = torch.ones_like(input) if pos_weight is None else pos_weight
    out = -(pw * target * ls_pos + (1 - target) * ls_neg)
    if reduction == "none":
        return out
    return out.sum() if reduction == "sum" else out.mean()

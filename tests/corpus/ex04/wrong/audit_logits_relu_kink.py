# mistake: ex04.logits-kink-at-zero
# why: max(x, 0) - x*y + log1p(exp(-|x|)) with relu: the value is right, the slope at x = 0 is not
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
    sp_neg = torch.relu(-input) + torch.log1p(torch.exp(-input.abs()))   # -log sigmoid(x)
    sp_pos = torch.relu(input) + torch.log1p(torch.exp(-input.abs()))    # -log(1 - sigmoid(x))
    out = w * target * sp_neg + (1 - target) * sp_pos
    return out if reduction == "none" else (out.sum() if reduction == "sum" else out.mean())

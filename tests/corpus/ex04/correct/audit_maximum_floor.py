# why: the -100 floor with torch.maximum against a scalar tensor; logits via logaddexp
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
        raise ValueError(f"reduction={reduction!r} not understood")
    if input.size() != target.size():
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input size ({input.size()})")
    if not torch.all((input >= 0) & (input <= 1)):
        raise ValueError("binary_cross_entropy expects probabilities between 0 and 1")
    floor = torch.tensor(-100.0, dtype=input.dtype, device=input.device)
    out = -(target * torch.maximum(input.log(), floor) + (1 - target) * torch.maximum((1 - input).log(), floor))
    if reduction == "none":
        return out
    return out.sum() if reduction == "sum" else out.mean()

# mistake: ex04.range-not-checked
"""ex04: a learner's submission (verdict corpus)."""
from typing import Optional

import torch


def binary_cross_entropy(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    if input.shape != target.shape:
        raise ValueError(f"shape {tuple(input.shape)} != {tuple(target.shape)}")
    loss = -(target * torch.clamp(torch.log(input), min=-100) + (1 - target) * torch.clamp(torch.log(1 - input), min=-100))
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def binary_cross_entropy_with_logits(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                                     pos_weight: Optional[torch.Tensor] = None) -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    if input.shape != target.shape:
        raise ValueError(f"shape {tuple(input.shape)} != {tuple(target.shape)}")
    log_sig = torch.minimum(input, torch.zeros_like(input)) - torch.log1p(torch.exp(-input.abs()))
    log_sig_neg = log_sig - input
    w = 1 if pos_weight is None else pos_weight
    loss = -(w * target * log_sig + (1 - target) * log_sig_neg)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

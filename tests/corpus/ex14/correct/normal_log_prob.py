# why: uses torch.distributions.Normal's log_prob (the full density) and removes the constant
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch
from torch.distributions import Normal


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var < 0")
        var = torch.full_like(input, var)
    if torch.any(var < 0):
        raise ValueError("var < 0")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif var.dim() != input.dim() or sum(s for i, s in zip(input.shape, var.shape) if i != s) != 1:
            raise ValueError(f"var has shape {tuple(var.shape)}, input {tuple(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("reduction")
    var = var.clone()
    with torch.no_grad():
        var.clamp_(min=eps)
    mean, target = torch.broadcast_tensors(input, target)
    loss = -Normal(mean, var.sqrt()).log_prob(target)
    if not full:
        loss = loss - 0.5 * math.log(2 * math.pi)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss

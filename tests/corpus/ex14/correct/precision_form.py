# why: written with the precision 1 / var: 0.5 * (-log(precision) + error**2 * precision)
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entries")
        var = var * torch.ones_like(input)
    if bool((var < 0).any()):
        raise ValueError("var has negative entries")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (var.dim() == input.dim() and sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1):
            raise ValueError(f"var {tuple(var.shape)} does not match input {tuple(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"invalid reduction {reduction!r}")
    var = var.clone()
    with torch.no_grad():
        var.clamp_(min=eps)
    precision = 1.0 / var
    loss = 0.5 * (-torch.log(precision) + (input - target) ** 2 * precision)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss

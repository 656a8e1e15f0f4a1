# mistake: ex14.reduction-not-checked
# why: an unknown reduction returns the unreduced loss
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def _fit(input, var):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entries")
        var = var * torch.ones_like(input)
    if (var < 0).any():
        raise ValueError("var has negative entries")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (var.dim() == input.dim() and sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1):
            raise ValueError(f"var {tuple(var.shape)} does not fit input {tuple(input.shape)}")
    return var


def _floor(var, eps):
    var = var.clone()
    with torch.no_grad():
        var.clamp_(min=eps)
    return var


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    var = _fit(input, var)
    v = _floor(var, eps)
    loss = 0.5 * (torch.log(v) + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

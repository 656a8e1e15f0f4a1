# mistake: ex14.var-shape-not-checked
# why: accepts any var that broadcasts
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
        else:
            torch.broadcast_tensors(var, input)  # raises if they cannot broadcast
    return var


def _floor(var, eps):
    var = var.clone()
    with torch.no_grad():
        var.clamp_(min=eps)
    return var


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    var = _fit(input, var)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    v = _floor(var, eps)
    loss = 0.5 * (torch.log(v) + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

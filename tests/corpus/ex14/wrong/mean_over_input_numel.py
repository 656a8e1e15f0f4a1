# mistake: none
# why: 'mean' divides by input.numel(), which is wrong when the target broadcasts the loss to a larger shape
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var < 0")
        var = torch.full_like(input, var)
    if (var < 0).any():
        raise ValueError("var < 0")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (var.dim() == input.dim() and sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1):
            raise ValueError(f"var {tuple(var.shape)} vs input {tuple(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    v = var.clone()
    with torch.no_grad():
        v.clamp_(min=eps)
    loss = 0.5 * (torch.log(v) + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.sum() / input.numel()
    if reduction == "sum":
        return loss.sum()
    return loss

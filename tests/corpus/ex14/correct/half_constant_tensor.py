# why: keeps every intermediate in the input's dtype, the constant included
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entries")
        var = torch.ones_like(input) * var
    if (var < 0).any():
        raise ValueError("var has negative entries")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (var.dim() == input.dim() and sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1):
            raise ValueError(f"var {tuple(var.shape)} vs input {tuple(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction {reduction}")
    v = var.clone()
    with torch.no_grad():
        v.clamp_(min=eps)
    half = torch.tensor(0.5, dtype=input.dtype, device=input.device)
    loss = half * (v.log() + (input - target).pow(2).div(v))
    if full:
        loss = loss + torch.tensor(0.5 * math.log(2 * math.pi), dtype=input.dtype, device=input.device)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

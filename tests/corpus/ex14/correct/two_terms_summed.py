# why: reduces the log term and the error term separately and adds the reduced parts
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("negative var")
        var = var * torch.ones_like(input)
    if (var < 0).any():
        raise ValueError("negative var")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (var.dim() == input.dim() and sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1):
            raise ValueError(f"var {tuple(var.shape)} does not fit {tuple(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    v = var.clone()
    with torch.no_grad():
        v.clamp_(min=eps)
    error_term = 0.5 * (input - target) ** 2 / v
    log_term = (0.5 * torch.log(v)).expand_as(error_term)
    const = 0.5 * math.log(2 * math.pi) if full else 0.0
    if reduction == "none":
        return log_term + error_term + const
    if reduction == "sum":
        return log_term.sum() + error_term.sum() + const * error_term.numel()
    return log_term.mean() + error_term.mean() + const

# mistake: ex14.std-not-variance
# why: written for a model whose head predicts sigma: log(sigma) + error**2 / (2 * sigma**2), with var taken as sigma
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if not isinstance(var, torch.Tensor):
        if var < 0:
            raise ValueError("negative")
        var = torch.full_like(input, float(var))
    if torch.any(var < 0):
        raise ValueError("negative")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var[..., None]
        elif not (var.dim() == input.dim() and sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1):
            raise ValueError(f"var {list(var.shape)} input {list(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    sigma = var.clone()
    with torch.no_grad():
        sigma.clamp_(min=eps)
    loss = torch.log(sigma) + (input - target) ** 2 / (2 * sigma ** 2)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss

# why: the docstring's recipe, validation spelled out case by case
"""ex14: a learner's submission (verdict corpus)."""
import math
from typing import Union

import torch


def gaussian_nll_loss(input, target, var: Union[torch.Tensor, float], full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("negative variance")
        var = var * torch.ones_like(input)
    elif (var < 0).any():
        raise ValueError("negative variance")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif var.dim() == input.dim() and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1:
            pass
        else:
            raise ValueError(f"var shape {tuple(var.shape)} vs input shape {tuple(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    var = var.clone()
    with torch.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (torch.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

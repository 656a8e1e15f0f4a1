# my work on ex14_gaussian_nll.py, version 7
"""Reference solution for exercise 14: the Gaussian negative log-likelihood."""
import math
from typing import Union

import torch

REDUCTIONS = ("mean", "sum", "none")


def gaussian_nll_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    var: Union[torch.Tensor, float],
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> torch.Tensor:
    """Gaussian negative log-likelihood, as `F.gaussian_nll_loss`."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError(f"gaussian_nll_loss: var is negative ({var}); a variance is never below 0")
        var = var * torch.ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entries; a variance is never below 0")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:  # one variance per row: (N,) for an (N, D) input
            var = var.unsqueeze(-1)
        elif not (var.dim() == input.dim()
                  and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(
                f"gaussian_nll_loss: var of shape {tuple(var.shape)} does not fit input of shape "
                f"{tuple(input.shape)}: give it the input's shape, the input's shape without its last "
                "dimension, or the input's shape with one dimension of size 1"
            )
    if reduction not in REDUCTIONS:
        raise ValueError(f"gaussian_nll_loss: reduction must be one of {REDUCTIONS}, not {reduction!r}")
    # Clamp a copy, outside autograd: the value is at least eps, but the gradient flows to
    # var as if nothing were clamped (a clamp under autograd would pass 0 below eps).
    var = var.clone()
    with torch.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (torch.log(var) + (input - target) ** 2 / var)  # (input's shape, broadcast)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

# why: standardises the error by sigma = sqrt(var) and squares it; log(var) as 2 * log(sigma)
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch

REDUCTIONS = ("mean", "sum", "none")


def _fits(input_shape, var_shape):
    if var_shape == input_shape or var_shape == input_shape[:-1]:
        return True
    if len(var_shape) != len(input_shape):
        return False
    mismatches = [v for i, v in zip(input_shape, var_shape) if i != v]
    return mismatches == [1]


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if not torch.is_tensor(var):
        if var < 0:
            raise ValueError(f"var = {var} is negative")
        var = torch.full(input.shape, float(var), dtype=input.dtype, device=input.device)
    if (var < 0).sum() > 0:
        raise ValueError("var contains negative values")
    if not _fits(tuple(input.shape), tuple(var.shape)):
        raise ValueError(f"var shape {tuple(var.shape)} does not fit input shape {tuple(input.shape)}")
    if var.shape != input.shape and var.shape == input.shape[:-1]:
        var = var.unsqueeze(-1)
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}")
    v = var.clone()
    with torch.no_grad():
        v.clamp_(min=eps)
    sigma = v.sqrt()
    z = (input - target) / sigma
    loss = torch.log(sigma) + 0.5 * z * z
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss

# why: works on flattened views and reshapes the 'none' result back; mean as sum / count
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
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
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    shape = torch.broadcast_tensors(input, target, var)[0].shape
    x = input.expand(shape).reshape(-1)
    y = target.expand(shape).reshape(-1)
    v = var.expand(shape).reshape(-1).clone()
    with torch.no_grad():
        v.clamp_(min=eps)
    flat = 0.5 * (torch.log(v) + (x - y) ** 2 / v)
    if full:
        flat = flat + 0.5 * math.log(2 * math.pi)
    if reduction == "none":
        return flat.reshape(shape)
    total = flat.sum()
    return total if reduction == "sum" else total / flat.numel()

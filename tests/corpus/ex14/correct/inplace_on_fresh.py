# why: in-place arithmetic, but only on tensors it created itself
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var must be non-negative")
        var = torch.empty_like(input).fill_(var)
    if (var < 0).any():
        raise ValueError("var must be non-negative")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif var.ndim != input.ndim or sum(vs for xs, vs in zip(input.shape, var.shape) if xs != vs) != 1:
            raise ValueError("var must have the shape of input, input.shape[:-1], or one dim equal to 1; got "
                             f"{tuple(var.shape)} for {tuple(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("reduction")
    v = var.clone()
    with torch.no_grad():
        v.clamp_(min=eps)
    sq = input - target
    sq = sq * sq
    loss = torch.log(v) + sq / v
    loss = loss * 0.5
    if full:
        loss = loss + 0.5 * math.log(2.0 * math.pi)
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else total / loss.numel()

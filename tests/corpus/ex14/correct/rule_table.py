# why: the var shape rule as a list of accepted shapes, built before anything else
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def _accepted(shape):
    shape = tuple(shape)
    yield shape, False
    yield shape[:-1], True
    for k, size in enumerate(shape):
        if size != 1:
            yield shape[:k] + (1,) + shape[k + 1:], False


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry")
        var = var * torch.ones_like(input)
    if (var < 0).any():
        raise ValueError("var has negative entry")
    for shape, unsqueeze in _accepted(input.shape):
        if tuple(var.shape) == shape:
            if unsqueeze and var.shape != input.shape:
                var = var.unsqueeze(-1)
            break
    else:
        raise ValueError(f"var has shape {tuple(var.shape)}; input has {tuple(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction {reduction!r}")
    v = var.clone()
    with torch.no_grad():
        v.clamp_(min=eps)
    loss = 0.5 * (torch.log(v) + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return loss.mean() if reduction == "mean" else (loss.sum() if reduction == "sum" else loss)

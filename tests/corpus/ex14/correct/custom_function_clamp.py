# why: the clamp as a torch.autograd.Function whose backward passes the gradient through
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


class FloorPassThrough(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v, eps):
        return v.clamp(min=eps)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has a negative entry")
        var = input.new_full(input.shape, float(var))
    if (var < 0).any().item():
        raise ValueError("var has a negative entry")
    same = var.shape == input.shape
    per_row = var.shape == input.shape[:-1]
    mismatched = [j for j in range(var.dim()) if var.dim() == input.dim() and var.shape[j] != input.shape[j]]
    one_size_one = var.dim() == input.dim() and len(mismatched) == 1 and var.shape[mismatched[0]] == 1
    if not (same or per_row or one_size_one):
        raise ValueError(f"var is {tuple(var.shape)}, input is {tuple(input.shape)}")
    if per_row and not same:
        var = var.unsqueeze(-1)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction={reduction!r}")
    v = FloorPassThrough.apply(var, eps)
    loss = 0.5 * (v.log() + (input - target).square() / v)
    if full:
        loss = loss + math.log(math.sqrt(2 * math.pi))
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()

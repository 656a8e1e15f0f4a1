# why: the floor written with torch.where and a detached offset
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if type(var) is float:
        if var < 0.0:
            raise ValueError("variance must not be negative")
        var = torch.ones_like(input).mul(var)
    if var.lt(0).any():
        raise ValueError("variance must not be negative")
    if var.size() != input.size():
        if var.size() == input.size()[:-1]:
            var = var.reshape(*var.shape, 1)
        else:
            ok = var.dim() == input.dim()
            if ok:
                diffs = [(a, b) for a, b in zip(input.size(), var.size()) if a != b]
                ok = len(diffs) == 1 and diffs[0][1] == 1
            if not ok:
                raise ValueError(f"incompatible var {var.size()} for input {input.size()}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("reduction must be mean, sum or none")
    raised = (eps - var).detach()
    v = torch.where(var < eps, var + raised, var)
    err = input - target
    loss = (torch.log(v) + err * err / v) * 0.5
    if full:
        loss = loss + 0.91893853320467274178
    if reduction == "mean":
        return loss.sum() / loss.numel()
    if reduction == "sum":
        return loss.sum()
    return loss

# why: the clamp written as a straight-through estimator: clamped value, identity gradient
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _check_shape(input, var):
    if var.shape == input.shape:
        return var
    if tuple(var.shape) == tuple(input.shape)[:-1]:
        return var[..., None]
    if var.ndim == input.ndim:
        differ = [(a, b) for a, b in zip(input.shape, var.shape) if a != b]
        if len(differ) == 1 and differ[0][1] == 1:
            return var
    raise ValueError("var of shape %s cannot be used with input of shape %s" % (list(var.shape), list(input.shape)))


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if not isinstance(var, torch.Tensor):
        if var < 0:
            raise ValueError("var must be >= 0")
        var = torch.full_like(input, var)
    if bool(torch.any(var < 0)):
        raise ValueError("var must be >= 0")
    var = _check_shape(input, var)
    if reduction not in {"mean", "sum", "none"}:
        raise ValueError("bad reduction " + str(reduction))
    floor = var + (var.clamp(min=eps) - var).detach()  # value of the clamp, gradient of var
    loss = 0.5 * torch.log(floor) + 0.5 * (input - target).pow(2) / floor
    if full:
        loss = loss + HALF_LOG_2PI
    return {"mean": loss.mean, "sum": loss.sum}.get(reduction, lambda: loss)()

# why: validates reduction before var, and turns a float var into a tensor with as_tensor + expand
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch

_REDUCE = {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if reduction not in _REDUCE:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if not isinstance(var, torch.Tensor):
        if var < 0:
            raise ValueError(f"negative variance {var}")
        var = torch.as_tensor(var, dtype=input.dtype, device=input.device).expand(input.shape)
    if (var < 0).any():
        raise ValueError("negative variance")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (var.dim() == input.dim() and sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1):
            raise ValueError(f"var {tuple(var.shape)} vs input {tuple(input.shape)}")
    v = var.clone()
    with torch.no_grad():
        v.clamp_(min=eps)
    loss = torch.log(v).mul(0.5).add((input - target).square().div(v).mul(0.5))
    if full:
        loss = loss.add(0.5 * math.log(2 * math.pi))
    return _REDUCE[reduction](loss)

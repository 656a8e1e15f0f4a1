# why: broadcasts input and target explicitly first; the float var becomes a 0-d tensor broadcast later
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if reduction not in ("mean", "sum", "none") and not isinstance(var, (float, torch.Tensor)):
        raise ValueError("bad arguments")
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var must be >= 0")
        var_t = torch.tensor(var, dtype=input.dtype, device=input.device)
    else:
        if (var < 0).any():
            raise ValueError("var must be >= 0")
        if var.shape == input.shape:
            var_t = var
        elif var.shape == input.shape[:-1]:
            var_t = var.unsqueeze(-1)
        elif var.dim() == input.dim() and sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1:
            var_t = var
        else:
            raise ValueError(f"var shape {tuple(var.shape)} is wrong for input shape {tuple(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction {reduction!r} is not one of mean, sum, none")
    mu, y = torch.broadcast_tensors(input, target)
    v = var_t.clone()
    with torch.no_grad():
        v.clamp_(min=eps)
    loss = 0.5 * (torch.log(v) + (mu - y) ** 2 / v)
    loss = loss.expand(mu.shape) if loss.shape != mu.shape else loss
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

# why: expands everything to the input's shape and builds the loss element by element in a loop
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("negative variance")
        var = torch.tensor(var, dtype=input.dtype, device=input.device).expand(input.shape)
    elif (var < 0).any():
        raise ValueError("negative variance")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif var.dim() == input.dim() and sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1:
            pass
        else:
            raise ValueError(f"var shape {tuple(var.shape)} incompatible with input shape {tuple(input.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    shape = torch.broadcast_tensors(input, target, var)[0].shape
    x, y, v = input.expand(shape).reshape(-1), target.expand(shape).reshape(-1), var.expand(shape).reshape(-1)
    terms = []
    for i in range(x.numel()):
        vi = v[i].clone()
        with torch.no_grad():
            vi.clamp_(min=eps)
        term = 0.5 * (torch.log(vi) + (x[i] - y[i]) ** 2 / vi)
        if full:
            term = term + 0.5 * math.log(2 * math.pi)
        terms.append(term)
    loss = torch.stack(terms).reshape(shape) if terms else x.new_zeros(shape)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

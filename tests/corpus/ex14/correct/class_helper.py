# why: a small class does the validation; the loss function only combines
"""ex14: a learner's submission (verdict corpus)."""
import math

import torch


class _Variance:
    def __init__(self, input, var, eps):
        if isinstance(var, float):
            var = torch.full_like(input, var)
        if torch.any(var < 0):
            raise ValueError("var has negative entry/entries")
        if var.shape != input.shape:
            if input.shape[:-1] == var.shape:
                var = var.unsqueeze(-1)
            elif not (input.dim() == var.dim()
                      and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
                raise ValueError(f"var is of incorrect size {tuple(var.shape)} for {tuple(input.shape)}")
        self.value = var.clone()
        with torch.no_grad():
            self.value.clamp_(min=eps)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    v = _Variance(input, var, eps).value
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    loss = 0.5 * (torch.log(v) + torch.square(input - target) / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return loss if reduction == "none" else getattr(loss, reduction)()

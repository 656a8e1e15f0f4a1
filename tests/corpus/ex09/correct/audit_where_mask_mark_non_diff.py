# why: focal with a boolean class mask and torch.where; Function marks the target non-differentiable
from typing import Any, Optional

import torch


def focal_loss(input, target, gamma=2.0, alpha=None, reduction="mean"):
    allowed = ("mean", "sum", "none")
    if reduction not in allowed:
        raise ValueError(f"reduction={reduction!r}; expected one of {allowed}")
    C = input.size(1)
    outside = (target < 0) | (target >= C)
    if outside.any():
        raise IndexError(f"Target {int(target[outside][0])} is out of bounds.")
    mask = torch.arange(C, device=input.device)[None, :] == target[:, None]
    ls = input - torch.logsumexp(input, 1, keepdim=True)
    logp = torch.where(mask, ls, torch.zeros_like(ls)).sum(1)
    factor = torch.pow(torch.clamp(1 - torch.exp(logp), min=0), gamma)
    fl = -factor * logp
    if alpha is not None:
        fl = fl * torch.where(mask, alpha[None, :].to(fl.dtype), torch.zeros_like(ls)).sum(1)
    return fl.mean() if reduction == "mean" else fl.sum() if reduction == "sum" else fl


class CrossEntropyFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        ctx.mark_non_differentiable(target)
        shifted = logits - logits.max(1, keepdim=True)[0]
        logz = shifted.exp().sum(1).log()
        nll = logz - shifted.gather(1, target.unsqueeze(1)).squeeze(1)
        ctx.save_for_backward(shifted, logz, target)
        return nll.mean()

    @staticmethod
    def backward(ctx, grad_output):
        shifted, logz, target = ctx.saved_tensors
        soft = (shifted - logz[:, None]).exp()
        soft = soft - torch.nn.functional.one_hot(target, shifted.shape[1]).to(soft.dtype)
        return soft * grad_output / shifted.shape[0], None



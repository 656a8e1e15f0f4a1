# mistake: ex09.focal-mean-over-elements
# why: mean divides by N*C: the (N, C) focal matrix averaged
from typing import Any, Optional

import torch


def focal_loss(input, target, gamma=2.0, alpha=None, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    N, C = input.shape
    if ((target < 0) | (target >= C)).any():
        raise IndexError(f"Target {target.max().item()} is out of bounds.")
    logp = torch.log_softmax(input, dim=1)
    hot = torch.nn.functional.one_hot(target, C).to(input.dtype)
    a = torch.ones(C, dtype=input.dtype) if alpha is None else alpha.to(input.dtype)
    mat = -hot * a * (1 - logp.exp()) ** gamma * logp
    if reduction == "mean":
        return mat.mean()
    if reduction == "sum":
        return mat.sum()
    return mat.sum(dim=1)


class CrossEntropyFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        z = logits - logits.max(dim=1, keepdim=True).values
        logp = z - z.exp().sum(dim=1, keepdim=True).log()
        ctx.save_for_backward(logits, target)
        return -logp.gather(1, target[:, None]).mean()

    @staticmethod
    def backward(ctx, grad_output):
        logits, target = ctx.saved_tensors
        p = torch.softmax(logits, dim=1)
        hot = torch.zeros_like(p).scatter_(1, target[:, None], 1.0)
        return grad_output * (p - hot) / logits.shape[0], None



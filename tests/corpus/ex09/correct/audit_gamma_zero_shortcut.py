# why: gamma == 0 takes a cross-entropy shortcut; alpha by index_select; Function with ctx attributes
from typing import Any, Optional

import torch


def _log_p(input, target):
    lse = input.max(1).values + (input - input.max(1, keepdim=True).values).exp().sum(1).log()
    return input.gather(1, target.view(-1, 1)).view(-1) - lse


def focal_loss(input, target, gamma=2.0, alpha=None, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction " + repr(reduction))
    if target.numel() and (int(target.min()) < 0 or int(target.max()) >= input.shape[1]):
        bad = target[(target < 0) | (target >= input.shape[1])][0]
        raise IndexError(f"Target {int(bad)} is out of bounds.")
    logp = _log_p(input, target)
    per = -logp if gamma == 0 else -(1 - logp.exp()) ** gamma * logp
    if alpha is not None:
        per = per * alpha.index_select(0, target)
    if reduction == "none":
        return per
    total = per.sum()
    return total if reduction == "sum" else total / per.numel()


class CrossEntropyFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        logp = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
        ctx.save_for_backward(logp)
        ctx.target = target
        return -(logp[torch.arange(len(target)), target]).mean()

    @staticmethod
    def backward(ctx, grad_output):
        (logp,) = ctx.saved_tensors
        grad = torch.softmax(logp, dim=-1)
        grad = grad.index_put((torch.arange(len(ctx.target)), ctx.target), torch.tensor(-1.0, dtype=grad.dtype), accumulate=True)
        return grad * grad_output / len(ctx.target), None



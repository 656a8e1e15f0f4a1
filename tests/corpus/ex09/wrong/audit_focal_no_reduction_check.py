# mistake: ex09.no-reduction-check
# why: an unknown reduction silently returns the mean
from typing import Any, Optional

import torch


def focal_loss(input, target, gamma=2.0, alpha=None, reduction="mean"):
    N, C = input.shape
    for t in target.tolist():
        if not 0 <= t < C:
            raise IndexError(f"Target {t} is out of bounds.")
    log_sm = torch.log_softmax(input, dim=1)
    ce = -log_sm[torch.arange(N), target]
    pt = torch.softmax(input, dim=1)[torch.arange(N), target]
    loss = (1.0 - pt) ** gamma * ce
    if alpha is not None:
        loss *= alpha[target]
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return loss


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



# mistake: ex09.sigmoid-focal
# why: p from a sigmoid of the true class logit (torchvision's binary focal loss), not softmax
from typing import Any, Optional

import torch


def focal_loss(input, target, gamma=2.0, alpha=None, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be mean, sum or none, got {reduction}")
    N, C = input.shape
    for t in target.tolist():
        if not 0 <= t < C:
            raise IndexError(f"Target {t} is out of bounds.")
    log_sm = torch.log_softmax(input, dim=1)
    ce = -log_sm[torch.arange(N), target]
    z = input[torch.arange(N), target]
    pt = torch.sigmoid(z)
    ce = -torch.nn.functional.logsigmoid(z)
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



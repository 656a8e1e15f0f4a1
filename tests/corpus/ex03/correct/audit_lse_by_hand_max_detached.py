# why: logsumexp by hand with a detached max; CE by fancy indexing with arange
import torch


def log_softmax(logits, dim=-1):
    m = logits.max(dim=dim, keepdim=True).values.detach()
    return logits - (m + torch.log(torch.sum(torch.exp(logits - m), dim=dim, keepdim=True)))

def cross_entropy(logits, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("reduction must be mean, sum or none")
    if logits.dim() == 1:
        return cross_entropy(logits.unsqueeze(0), target.reshape(1), reduction if reduction != "none" else "none").reshape(()) if reduction == "none" else cross_entropy(logits.unsqueeze(0), target.reshape(1), reduction)
    n, c = logits.shape
    if target.shape != (n,):
        raise ValueError(f"expected {n} targets, got shape {tuple(target.shape)}")
    bad = (target < 0) | (target >= c)
    if bad.any():
        raise IndexError(f"Target {int(target[bad][0])} is out of bounds.")
    lp = log_softmax(logits, dim=1)
    picked = -lp[torch.arange(n), target]
    if reduction == "sum":
        return picked.sum()
    if reduction == "mean":
        return picked.mean()
    return picked

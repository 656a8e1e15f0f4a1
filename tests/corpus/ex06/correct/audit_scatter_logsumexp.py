# why: softmax as exp(x - logsumexp), the -1 put in with scatter_add_
import torch


def mse_grad(input, target):
    if input.size() != target.size():
        raise ValueError("input " + str(input.size()) + " and target " + str(target.size()) + " differ")
    return (input - target).mul(2).div(input.numel())


def cross_entropy_grad(logits, target):
    if logits.ndim == 1:
        return cross_entropy_grad(logits.unsqueeze(0), target.view(1)).squeeze(0)
    n, c = logits.shape
    if target.min() < 0 or target.max() >= c:
        off = target[(target < 0) | (target >= c)]
        raise IndexError(f"Target {int(off[0])} is out of bounds.")
    probs = torch.exp(logits - torch.logsumexp(logits, dim=1, keepdim=True))
    minus = torch.zeros_like(probs).scatter_add_(1, target.unsqueeze(1), -torch.ones(n, 1, dtype=probs.dtype))
    return (probs + minus) / n


def bce_with_logits_grad(input, target):
    if input.shape != target.shape:
        raise ValueError(f"{input.shape} != {target.shape}")
    return (input.sigmoid() - target) / input.numel()

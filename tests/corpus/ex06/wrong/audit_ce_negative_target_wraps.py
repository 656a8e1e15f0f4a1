# mistake: ex06.ce-no-bounds-check
# why: no bound check: a target of -1 silently picks the last class
import torch


def mse_grad(input, target):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    return 2 * (input - target) / input.numel()


def cross_entropy_grad(logits, target):
    g = torch.softmax(logits, dim=-1).clone()
    if logits.dim() == 1:
        g[target] -= 1
        return g
    n = logits.shape[0]
    g[torch.arange(n), target] -= 1
    return g / n


def bce_with_logits_grad(input, target):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    return (torch.sigmoid(input) - target) / input.numel()



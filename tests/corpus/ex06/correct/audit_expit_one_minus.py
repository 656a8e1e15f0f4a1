# why: sigmoid - y written as (1 - y) - sigmoid(-x), softmax via torch.special
import torch


def mse_grad(input, target):
    if input.shape != target.shape:
        raise ValueError(f"mse_grad needs equal shapes, got {tuple(input.shape)} and {tuple(target.shape)}")
    n = torch.tensor(input.numel(), dtype=input.dtype)
    return 2 * (input - target) / n


def cross_entropy_grad(logits, target):
    C = logits.shape[-1]
    t = target.long()
    outside = (t < 0) | (t >= C)
    if outside.any():
        raise IndexError(f"Target {t[outside].min().item() if t.dim() else t.item()} is out of bounds.")
    sm = torch.special.softmax(logits, dim=-1)
    N = 1 if logits.dim() == 1 else logits.shape[0]
    hot = torch.zeros_like(sm)
    hot.scatter_(-1, t.unsqueeze(-1), 1.0)
    return (sm - hot) / N


def bce_with_logits_grad(input, target):
    if input.shape != target.shape:
        raise ValueError(f"bce_with_logits_grad needs equal shapes, got {tuple(input.shape)} and {tuple(target.shape)}")
    return ((1 - target) - torch.special.expit(-input)) / input.numel()

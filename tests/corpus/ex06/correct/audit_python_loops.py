# why: cross-entropy row by row with Python loops and math, no vectorisation
import math

import torch


def mse_grad(input, target):
    if list(input.shape) != list(target.shape):
        raise ValueError(f"Shapes {list(input.shape)} and {list(target.shape)} must match")
    n = input.numel()
    return 2 * (input - target) / n


def cross_entropy_grad(logits, target):
    rows = logits.reshape(1, -1) if logits.dim() == 1 else logits
    targets = target.reshape(-1).tolist()
    n, c = rows.shape
    out = torch.empty_like(rows)
    for i in range(n):
        t = targets[i]
        if not 0 <= t < c:
            raise IndexError(f"Target {t} is out of bounds.")
        row = rows[i].tolist()
        m = max(row)
        exps = [math.exp(v - m) for v in row]
        s = sum(exps)
        for j in range(c):
            out[i, j] = (exps[j] / s - (1.0 if j == t else 0.0)) / n
    return out.reshape(logits.shape)


def bce_with_logits_grad(input, target):
    if input.shape != target.shape:
        raise ValueError(f"input shape {tuple(input.shape)} target shape {tuple(target.shape)}")
    return (torch.sigmoid(input) - target) / input.numel()

# why: one row at a time, the log-softmax shifted by the row's maximum
"""ex12: a learner's submission (verdict corpus)."""
import torch
import torch.nn.functional as F

def _check(a, b, temperature):
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError(f"a and b must be 2-D, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")


def _row_loss(row, i):
    shifted = row - row.max()
    return -(shifted[i] - torch.log(torch.exp(shifted).sum()))


def info_nce(a, b, temperature=0.07):
    _check(a, b, temperature)
    a = F.normalize(a, dim=1)
    b = F.normalize(b, dim=1)
    s = a @ b.T / temperature
    n = s.shape[0]
    total = s.new_zeros(())
    for i in range(n):
        total = total + _row_loss(s[i], i) + _row_loss(s[:, i], i)
    return total / (2 * n)

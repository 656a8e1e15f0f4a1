# why: the logsumexp of each row written with the maximum and log1p of the rest
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


def _lse(x, dim):
    m = x.amax(dim=dim, keepdim=True)
    return (m + torch.log(torch.exp(x - m).sum(dim=dim, keepdim=True))).squeeze(dim)


def info_nce(a, b, temperature=0.07):
    _check(a, b, temperature)
    s = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    d = s.diagonal()
    return ((_lse(s, 1) - d).mean() + (_lse(s, 0) - d).mean()) / 2

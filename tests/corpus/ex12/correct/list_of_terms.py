# why: a Python list of per-pair terms, stacked at the end
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


def info_nce(a, b, temperature=0.07):
    _check(a, b, temperature)
    s = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    terms = []
    for i in range(s.shape[0]):
        terms.append(torch.logsumexp(s[i, :], dim=0) - s[i, i])
        terms.append(torch.logsumexp(s[:, i], dim=0) - s[i, i])
    return torch.stack(terms).mean()

# why: builds the text-by-image matrix b @ a.T; the symmetric loss does not care
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
    t = F.normalize(b, dim=-1) @ F.normalize(a, dim=-1).transpose(0, 1)
    t = t / temperature
    d = torch.diagonal(t)
    return ((torch.logsumexp(t, 1) - d).mean() + (torch.logsumexp(t.transpose(0, 1), 1) - d).mean()) * 0.5

# why: the positive logit picked with torch.where on an identity mask
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
    n = s.shape[0]
    mask = torch.eye(n, dtype=torch.bool, device=s.device)
    positives = torch.where(mask, s, torch.zeros_like(s)).sum(dim=1)
    loss = 0.5 * (torch.logsumexp(s, dim=1) + torch.logsumexp(s, dim=0)) - positives
    return loss.mean()

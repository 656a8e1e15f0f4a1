# why: divides a by the temperature after normalising (the same logits), b left unscaled
"""ex12: a learner's submission (verdict corpus)."""
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
    q = F.normalize(a, dim=1) / temperature
    k = F.normalize(b, dim=1)
    s = q @ k.T
    pos = (q * k).sum(dim=1)
    return ((s.logsumexp(1) - pos).mean() + (s.logsumexp(0) - pos).mean()) / 2

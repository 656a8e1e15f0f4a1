# why: both directions stacked into one (2, N, N) tensor, one log-softmax over the last dim
"""ex12: a learner's submission (verdict corpus)."""
import torch

def _check(a, b, temperature):
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError(f"a and b must be 2-D, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")


def info_nce(a, b, temperature=0.07):
    _check(a, b, temperature)
    a = a / torch.linalg.vector_norm(a, dim=1, keepdim=True)
    b = b / torch.linalg.vector_norm(b, dim=1, keepdim=True)
    s = (a @ b.T) / temperature
    both = torch.stack([s, s.T])
    logp = both - torch.logsumexp(both, dim=-1, keepdim=True)
    return -torch.diagonal(logp, dim1=-2, dim2=-1).mean()

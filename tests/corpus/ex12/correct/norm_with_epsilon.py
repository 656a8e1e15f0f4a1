# why: normalises with a tiny epsilon in the denominator, as many codebases do
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
    a = a / (a.norm(dim=1, keepdim=True) + 1e-12)
    b = b / (b.norm(dim=1, keepdim=True) + 1e-12)
    s = a @ b.T / temperature
    idx = torch.arange(len(s), device=s.device)
    lsm_r = s - torch.logsumexp(s, dim=1, keepdim=True)
    lsm_c = s - torch.logsumexp(s, dim=0, keepdim=True)
    return -(lsm_r[idx, idx] + lsm_c[idx, idx]).mean() / 2

# why: computes in float64 and returns the inputs' dtype
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
    dtype = a.dtype
    a64, b64 = a.double(), b.double()
    s = F.normalize(a64, dim=1) @ F.normalize(b64, dim=1).T / temperature
    labels = torch.arange(len(s), device=s.device)
    lp_rows = torch.log_softmax(s, dim=1).gather(1, labels[:, None]).squeeze(1)
    lp_cols = torch.log_softmax(s.T, dim=1).gather(1, labels[:, None]).squeeze(1)
    return (-(lp_rows.mean() + lp_cols.mean()) / 2).to(dtype)

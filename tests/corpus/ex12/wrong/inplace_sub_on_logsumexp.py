# mistake: ex12.inplace-breaks-backward
# why: subtracts in place from logsumexp's result, which its backward needs
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
    s = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    s = s / temperature
    rows = torch.logsumexp(s, dim=1)
    rows.sub_(s.diagonal())
    cols = torch.logsumexp(s, dim=0)
    cols.sub_(s.diagonal())
    out = rows.mean() + cols.mean()
    return out / 2

# mistake: ex12.inputs-modified
# why: divides the caller's a and b by their norms in place

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
    with torch.no_grad():
        a /= a.norm(dim=1, keepdim=True)
        b /= b.norm(dim=1, keepdim=True)
    s = a @ b.T / temperature
    d = s.diagonal()
    return ((torch.logsumexp(s, 1) - d).mean() + (torch.logsumexp(s, 0) - d).mean()) / 2

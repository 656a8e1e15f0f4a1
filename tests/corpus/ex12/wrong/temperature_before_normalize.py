# mistake: ex12.temperature-ignored
# why: scales a and b by 1/T, then normalises it away

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
    s = F.normalize(a / temperature, dim=1) @ F.normalize(b / temperature, dim=1).T
    d = s.diagonal()
    return ((torch.logsumexp(s, 1) - d).mean() + (torch.logsumexp(s, 0) - d).mean()) / 2

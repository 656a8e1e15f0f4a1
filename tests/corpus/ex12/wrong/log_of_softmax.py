# mistake: ex12.log-of-softmax
# why: torch.log(torch.softmax(...)): underflows to log(0)

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
    r = torch.log(torch.softmax(s, dim=1)).diagonal().mean()
    c = torch.log(torch.softmax(s, dim=0)).diagonal().mean()
    return -(r + c) / 2

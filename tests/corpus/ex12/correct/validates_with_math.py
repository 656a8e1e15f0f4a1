# why: validation through math.isfinite and explicit messages; special.logsumexp
"""ex12: a learner's submission (verdict corpus)."""
import math

import torch
import torch.nn.functional as F


def info_nce(a, b, temperature=0.07):
    if len(a.shape) != 2:
        raise ValueError(f"a must be (N, D), got {tuple(a.shape)}")
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"a {tuple(a.shape)} and b {tuple(b.shape)} must pair up row by row")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"bad temperature {temperature}")
    s = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    d = torch.diagonal(s)
    return (torch.special.logsumexp(s, 1) - d).mean() / 2 + (torch.special.logsumexp(s, 0) - d).mean() / 2

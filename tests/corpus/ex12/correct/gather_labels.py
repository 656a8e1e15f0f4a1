# why: labels made with arange and picked with gather from both log-softmaxes
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
    s = torch.mm(F.normalize(a, dim=1), F.normalize(b, dim=1).t()) / temperature
    labels = torch.arange(s.size(0), device=s.device).unsqueeze(1)
    row = torch.log_softmax(s, 1).gather(1, labels)
    col = torch.log_softmax(s.t(), 1).gather(1, labels)
    return -torch.cat([row, col]).mean()

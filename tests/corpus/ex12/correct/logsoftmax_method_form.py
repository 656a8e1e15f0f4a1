# why: Tensor methods throughout, the columns through transpose(0, 1)
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
    logits = F.normalize(a, dim=1).matmul(F.normalize(b, dim=1).transpose(0, 1)).div(temperature)
    labels = torch.arange(logits.size(0), device=logits.device)
    l1 = logits.log_softmax(dim=1)[labels, labels].neg().mean()
    l2 = logits.transpose(0, 1).log_softmax(dim=1)[labels, labels].neg().mean()
    return l1.add(l2).div(2)

# why: einsum for the similarities, the norm written out with a floor
"""ex12: a learner's submission (verdict corpus)."""
import torch

def _check(a, b, temperature):
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError(f"a and b must be 2-D, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")


def _unit(x):
    return x / torch.sqrt((x * x).sum(dim=1, keepdim=True)).clamp_min(1e-12)


def _ce_diag(logits):
    m = logits.max(dim=1, keepdim=True).values
    lse = m.squeeze(1) + torch.log(torch.exp(logits - m).sum(dim=1))
    return (lse - torch.diagonal(logits)).mean()


def info_nce(a, b, temperature=0.07):
    _check(a, b, temperature)
    logits = torch.einsum("nd,md->nm", _unit(a), _unit(b)) / temperature
    return (_ce_diag(logits) + _ce_diag(logits.t())) / 2

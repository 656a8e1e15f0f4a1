# why: the similarity matrix from broadcasting and a sum, torch.norm for the lengths
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
    an = a / torch.norm(a, p=2, dim=-1, keepdim=True)
    bn = b / torch.norm(b, p=2, dim=-1, keepdim=True)
    s = (an[:, None, :] * bn[None, :, :]).sum(-1) / temperature
    diag = torch.diag(s)
    loss_rows = torch.logsumexp(s, dim=1) - diag
    loss_cols = torch.logsumexp(s, dim=0) - diag
    return torch.cat([loss_rows, loss_cols]).mean()

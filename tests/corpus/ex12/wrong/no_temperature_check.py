# mistake: ex12.temperature-not-checked
# why: validates the shapes only; a temperature of 0 gives nan
import torch
import torch.nn.functional as F


def info_nce(a, b, temperature=0.07):
    if a.dim() != 2 or a.shape != b.shape:
        raise ValueError(f"need two (N, D) tensors of the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    s = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    d = s.diagonal()
    return ((torch.logsumexp(s, 1) - d).mean() + (torch.logsumexp(s, 0) - d).mean()) / 2

# why: the pieces as static methods of a small class
"""ex12: a learner's submission (verdict corpus)."""
import torch
import torch.nn.functional as F


class _Clip:
    @staticmethod
    def validate(a, b, temperature):
        if a.ndim != 2 or a.shape != b.shape:
            raise ValueError(f"expected two (N, D) tensors of one shape, got {list(a.shape)} and {list(b.shape)}")
        if temperature <= 0:
            raise ValueError("temperature must be > 0")

    @staticmethod
    def similarity(a, b, temperature):
        return F.normalize(a, p=2.0, dim=1) @ F.normalize(b, p=2.0, dim=1).mT / temperature

    @staticmethod
    def cross_entropy_diag(logits):
        return (torch.logsumexp(logits, dim=-1) - logits.diagonal()).mean()


def info_nce(a, b, temperature=0.07):
    _Clip.validate(a, b, temperature)
    s = _Clip.similarity(a, b, temperature)
    return (_Clip.cross_entropy_diag(s) + _Clip.cross_entropy_diag(s.mT)) / 2

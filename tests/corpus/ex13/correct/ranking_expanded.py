# why: expands the product into margin - y*x1 + y*x2 and validates with shape lengths
"""ex13: a learner's submission (verdict corpus)."""
import torch


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def margin_ranking_loss(x1, x2, y, margin=0.0, reduction="mean"):
    if len(x1.shape) != len(x2.shape) or len(x2.shape) != len(y.shape):
        raise ValueError(f"x1, x2 and y need the same number of dimensions: {x1.shape}, {x2.shape}, {y.shape}")
    if reduction not in {"mean", "sum", "none"}:
        raise ValueError(reduction)
    losses = (margin - y * x1 + y * x2).clamp(0)
    return _reduce(losses, reduction)


def _dist(x, y, p, eps):
    return torch.linalg.vector_norm(x - y + eps, ord=p, dim=-1)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    if margin <= 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError("anchor, positive and negative must have the same number of dimensions")
    d_pos = _dist(anchor, positive, p, eps)
    d_neg = _dist(anchor, negative, p, eps)
    if swap:
        d_neg = torch.minimum(d_neg, _dist(positive, negative, p, eps))
    return _reduce(torch.clamp(d_pos - d_neg + margin, min=0), reduction)

# why: ValueError for the dimension checks, validated in a helper
"""ex13: a learner's submission (verdict corpus)."""
import torch


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def margin_ranking_loss(x1, x2, y, margin=0.0, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    if not (x1.dim() == x2.dim() == y.dim()):
        raise RuntimeError(f"x1 {tuple(x1.shape)}, x2 {tuple(x2.shape)} and y {tuple(y.shape)} differ in dimensions")
    return _reduce(torch.clamp(-y * (x1 - x2) + margin, min=0), reduction)


def _validate(reduction, margin, *tensors):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    if margin <= 0:
        raise ValueError("margin must be > 0")
    if len({t.dim() for t in tensors}) != 1:
        raise ValueError(f"tensors of different dimensions: {[tuple(t.shape) for t in tensors]}")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    _validate(reduction, margin, anchor, positive, negative)
    dist = lambda u, v: torch.linalg.vector_norm(u - v + eps, p, dim=-1)  # noqa: E731
    near = dist(anchor, negative)
    if swap:
        near = torch.min(near, dist(positive, negative))
    return _reduce((dist(anchor, positive) - near + margin).clamp(min=0.0), reduction)

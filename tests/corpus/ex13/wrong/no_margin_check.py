# mistake: ex13.margin-not-checked
# why: accepts a margin of 0 or below
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


def _dist(x, y, p, eps):
    return torch.linalg.vector_norm(x - y + eps, ord=p, dim=-1)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError("anchor, positive and negative must have the same number of dimensions")
    d_pos = _dist(anchor, positive, p, eps)
    d_neg = _dist(anchor, negative, p, eps)
    if swap:
        d_neg = torch.minimum(d_neg, _dist(positive, negative, p, eps))
    return _reduce(torch.clamp(d_pos - d_neg + margin, min=0), reduction)

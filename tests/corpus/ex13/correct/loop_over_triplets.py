# why: one triplet at a time in a Python loop
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


def _d(x, y, p, eps):
    return (x - y + eps).abs().pow(p).sum().pow(1 / p)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    if margin <= 0:
        raise ValueError("margin must be positive")
    if anchor.dim() != positive.dim() or anchor.dim() != negative.dim():
        raise RuntimeError("dimension mismatch")
    single = anchor.dim() == 1
    if single:
        anchor, positive, negative = anchor[None], positive[None], negative[None]
    losses = []
    for a, pos, neg in zip(anchor, positive, negative):
        dn = _d(a, neg, p, eps)
        if swap:
            dn = torch.min(dn, _d(pos, neg, p, eps))
        losses.append(torch.clamp(_d(a, pos, p, eps) - dn + margin, min=0))
    loss = torch.stack(losses) if losses else anchor.new_zeros((0,))
    if single:
        loss = loss[0]
    return _reduce(loss, reduction)

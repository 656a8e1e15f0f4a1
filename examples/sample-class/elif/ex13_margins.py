# my work on ex13_margins.py, version 2
"""Reference solution for exercise 13: margin ranking and triplet margin losses."""
import torch

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, not {reduction!r}")


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def margin_ranking_loss(
    x1: torch.Tensor, x2: torch.Tensor, y: torch.Tensor, margin: float = 0.0, reduction: str = "mean"
) -> torch.Tensor:
    """max(0, -y * (x1 - x2) + margin), as `F.margin_ranking_loss`."""
    _check_reduction("margin_ranking_loss", reduction)
    if not x1.dim() == x2.dim() == y.dim():
        raise RuntimeError(
            f"margin_ranking_loss: x1, x2 and y must have the same number of dimensions; got "
            f"x1 {tuple(x1.shape)}, x2 {tuple(x2.shape)}, y {tuple(y.shape)}"
        )
    # torch's clamp_min: at exactly 0 (on the margin) the gradient passes, as torch's does.
    return _reduce((-y * (x1 - x2) + margin).clamp_min(0), reduction)


def _distance(x: torch.Tensor, y: torch.Tensor, p: float, eps: float) -> torch.Tensor:
    """||x - y + eps||_p along the last dimension, as `F.pairwise_distance`: eps inside keeps
    the gradient finite where x == y."""
    return torch.linalg.vector_norm(x - y + eps, ord=p, dim=-1)


def triplet_margin_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    """max(d(a, p) - d(a, n) + margin, 0), as `F.triplet_margin_loss`."""
    _check_reduction("triplet_margin_loss", reduction)
    if not margin > 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    if not anchor.dim() == positive.dim() == negative.dim():
        raise RuntimeError(
            f"triplet_margin_loss: anchor, positive and negative must have the same number of dimensions; "
            f"got {tuple(anchor.shape)}, {tuple(positive.shape)} and {tuple(negative.shape)}"
        )
    d_pos = _distance(anchor, positive, p, eps)
    d_neg = _distance(anchor, negative, p, eps)
    if swap:  # the positive may sit closer to the negative than the anchor does
        d_neg = torch.minimum(d_neg, _distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp_min(0), reduction)

"""ex01: a learner's submission (verdict corpus)."""
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if input.size() != target.size():
        raise ValueError("Shapes differ: {} and {}".format(input.size(), target.size()))
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    err = input - target
    sq = err.mul(err)
    if reduction == "sum":
        return sq.sum()
    if reduction == "mean":
        return sq.sum().div(sq.numel())
    return sq

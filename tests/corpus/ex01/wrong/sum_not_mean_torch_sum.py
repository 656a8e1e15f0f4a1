# mistake: ex01.sum-not-mean
"""ex01: a learner's submission (verdict corpus)."""
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if input.shape != target.shape:
        raise ValueError(f"input.shape {input.shape} != target.shape {target.shape}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    sq = torch.square(input - target)
    return sq if reduction == "none" else torch.sum(sq)

# mistake: ex01.none-flattened
"""ex01: a learner's submission (verdict corpus)."""
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if input.shape != target.shape:
        raise ValueError(f"input.shape {input.shape} != target.shape {target.shape}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    sq = ((input - target) ** 2).flatten()
    return sq.mean() if reduction == "mean" else sq.sum() if reduction == "sum" else sq

# mistake: ex01.reduction-not-checked
"""ex01: a learner's submission (verdict corpus)."""
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if input.shape != target.shape:
        raise ValueError(f"shape mismatch: input {tuple(input.shape)} vs target {tuple(target.shape)}")

    sq = (input - target) ** 2
    if reduction == "mean":
        return sq.mean()
    if reduction == "sum":
        return sq.sum()
    return sq

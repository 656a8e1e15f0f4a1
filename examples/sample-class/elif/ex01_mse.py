# my work on ex01_mse.py, version 4
"""Reference solution for exercise 01: mean squared error."""
import torch

REDUCTIONS = ("mean", "sum", "none")


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean squared error, as `F.mse_loss` but refusing to broadcast mismatched shapes."""
    if input.shape != target.shape:
        raise ValueError(
            f"mse_loss: input shape {tuple(input.shape)} and target shape "
            f"{tuple(target.shape)} differ; reshape one of them (broadcasting would "
            "compare every prediction with every target)"
        )
    if reduction not in REDUCTIONS:
        raise ValueError(f"mse_loss: reduction must be one of {REDUCTIONS}, not {reduction!r}")
    squared = (input - target) ** 2
    if reduction == "mean":
        return squared.mean()
    if reduction == "sum":
        return squared.sum()
    return squared


def mse_loss(input, target, reduction='mean'):
    return torch.nn.functional.mse_loss(input, target, reduction=reduction)

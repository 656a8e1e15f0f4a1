# mistake: ex01.result-detached
"""ex01: a learner's submission (verdict corpus)."""
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if input.shape != target.shape:
        raise ValueError(f"shape mismatch: input {tuple(input.shape)} vs target {tuple(target.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    sq = (input - target) ** 2
    if reduction == "mean":
        return torch.tensor(sq.mean().item(), dtype=input.dtype)
    return sq.sum() if reduction == "sum" else sq

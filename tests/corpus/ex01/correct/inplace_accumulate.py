"""ex01: a learner's submission (verdict corpus)."""
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if list(input.shape) != list(target.shape):
        raise ValueError("input has shape " + str(list(input.shape)) + " but target has shape " + str(list(target.size())))
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    sq = (input - target) ** 2
    if reduction == "none":
        return sq
    acc = torch.zeros((), dtype=sq.dtype, device=sq.device)
    acc += sq.sum()
    if reduction == "mean":
        acc /= sq.numel()
    return acc

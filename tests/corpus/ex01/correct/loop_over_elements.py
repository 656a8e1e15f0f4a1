"""ex01: a learner's submission (verdict corpus)."""
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if input.shape != target.shape:
        raise ValueError(f"shape mismatch: input {tuple(input.shape)} vs target {tuple(target.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    diffs = (input - target).reshape(-1)
    if reduction == "none":
        return (input - target) ** 2
    total = torch.zeros((), dtype=input.dtype, device=input.device)
    for i in range(diffs.numel()):
        total = total + diffs[i] * diffs[i]
    if reduction == "sum":
        return total
    return total / diffs.numel()

"""ex01: a learner's submission (verdict corpus)."""
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if input.shape != target.shape:
        raise ValueError(f"shape mismatch: input {tuple(input.shape)} vs target {tuple(target.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    def reduce(values):
        if reduction == "mean":
            return values.mean()
        return values.sum() if reduction == "sum" else values
    return reduce(torch.square(input.sub(target)))

"""ex01: a learner's submission (verdict corpus)."""
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if input.shape != target.shape:
        raise ValueError(f"input.shape {input.shape} != target.shape {target.shape}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    sq = torch.sub(input, target).pow(2)
    return {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}[reduction](sq)

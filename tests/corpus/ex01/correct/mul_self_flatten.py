"""ex01: a learner's submission (verdict corpus)."""
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if input.size() != target.size():
        raise ValueError("Shapes differ: {} and {}".format(input.size(), target.size()))
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    d = (input - target).flatten()
    if reduction == "none":
        return (d * d).reshape(input.shape)
    s = torch.dot(d, d) if d.numel() else d.sum()
    return s / d.numel() if reduction == "mean" else s

# mistake: ex02.delta-not-checked
"""ex02: a learner's submission (verdict corpus)."""
import torch


def mean_error(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if input.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(input.shape)} vs {tuple(target.shape)}")
    return (input - target).mean()


def l1_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    d = (input - target).abs()
    if reduction == "mean":
        return d.mean()
    if reduction == "sum":
        return d.sum()
    return d


def huber_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0) -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    d = (input - target).abs()
    loss = torch.where(d < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta))
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

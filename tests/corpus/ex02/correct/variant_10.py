"""ex02: a learner's submission (verdict corpus)."""
import torch


def mean_error(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if input.shape != target.shape:
        raise ValueError("input " + str(list(input.shape)) + ", target " + str(list(target.shape)))
    return torch.mean(input) - torch.mean(target)


def l1_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    d = input - target
    a = torch.where(d > 0, d, torch.where(d < 0, -d, torch.zeros_like(d)))
    if reduction == "mean":
        return a.mean()
    if reduction == "sum":
        return a.sum()
    return a


def huber_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0) -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    if delta <= 0:
        raise ValueError("delta must be > 0")
    d = input - target
    loss = torch.where(d.abs() < delta, d * d / 2, delta * (d.abs() - delta / 2))
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

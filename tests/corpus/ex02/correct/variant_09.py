"""ex02: a learner's submission (verdict corpus)."""
import torch


def mean_error(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if input.size() != target.size():
        raise ValueError(f"{input.size()} vs {target.size()}")
    d = input - target
    return d.sum() / d.numel()


def l1_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    d = torch.abs(target - input)
    if reduction == "mean":
        return d.mean()
    if reduction == "sum":
        return d.sum()
    return d


def huber_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0) -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    if delta <= 0:
        raise ValueError("delta must be > 0")
    d = (input - target).abs()
    loss = torch.where(d >= delta, delta * d - 0.5 * delta ** 2, 0.5 * d.pow(2))
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

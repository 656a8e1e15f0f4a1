"""ex02: a learner's submission (verdict corpus)."""
import torch


def mean_error(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if input.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(input.shape)} vs {tuple(target.shape)}")
    return torch.sub(input, target).mean()


def l1_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    a = (input - target).sign() * (input - target)
    if reduction == "mean":
        return a.mean()
    if reduction == "sum":
        return a.sum()
    return a


def huber_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0) -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    if not delta > 0:
        raise ValueError(f"delta={delta} must be > 0")
    d = torch.abs(input - target)
    small = d < delta
    loss = small * (0.5 * d * d) + (~small) * (delta * (d - 0.5 * delta))
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss

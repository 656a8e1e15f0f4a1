# my work on ex02_l1_huber.py, version 2
"""Reference solution for exercise 02: mean error, L1 and Huber losses."""
import warnings

import torch

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, not {reduction!r}")


def _warn_if_broadcasting(input: torch.Tensor, target: torch.Tensor) -> None:
    # torch broadcasts mismatched sizes and only warns; we do the same, word for word.
    if input.size() != target.size():
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def mean_error(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Signed mean of `input - target`: errors of opposite sign cancel out."""
    if input.shape != target.shape:
        raise ValueError(
            f"mean_error: input shape {tuple(input.shape)} and target shape "
            f"{tuple(target.shape)} differ; reshape one of them"
        )
    return (input - target).mean()


def l1_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean absolute error, as `F.l1_loss`."""
    _check_reduction("l1_loss", reduction)
    _warn_if_broadcasting(input, target)
    return _reduce((input - target).abs(), reduction)


def huber_loss(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0
) -> torch.Tensor:
    """Huber loss, as `F.huber_loss`: quadratic below `delta`, linear from `delta` on."""
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        # torch raises RuntimeError here; a bad argument value is a ValueError in this course.
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    _warn_if_broadcasting(input, target)
    distance = (input - target).abs()
    loss = torch.where(distance < delta, 0.5 * distance**2, delta * (distance - 0.5 * delta))
    return _reduce(loss, reduction)

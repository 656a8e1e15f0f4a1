# my work on ex04_bce.py, version 1
"""Reference solution for exercise 04: binary cross-entropy, on probabilities and on logits."""
from typing import Optional

import torch

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, not {reduction!r}")


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def binary_cross_entropy(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """BCE on probabilities, as `F.binary_cross_entropy`: each log clamped at -100."""
    _check_reduction("binary_cross_entropy", reduction)
    if input.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy: target shape {tuple(target.shape)} differs from input "
            f"shape {tuple(input.shape)}; they must be the same"
        )
    # Written as "not inside" so that NaN, which fails every comparison, is refused too.
    if not ((input >= 0) & (input <= 1)).all():
        raise ValueError(
            "binary_cross_entropy: every input must be a probability between 0 and 1; "
            "pass logits to binary_cross_entropy_with_logits instead"
        )
    # log(0) is -inf; torch clamps both logs at -100 so that a confident mistake costs
    # 100 and 0 * log(0) is 0, not NaN.
    log_p = torch.clamp(torch.log(input), min=-100)
    log_not_p = torch.clamp(torch.log(1 - input), min=-100)
    loss = -(target * log_p + (1 - target) * log_not_p)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: torch.Tensor,
    target: torch.Tensor,
    reduction: str = "mean",
    pos_weight: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """BCE on logits, as `F.binary_cross_entropy_with_logits`: exact for logits of ±1e4."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    if input.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: target shape {tuple(target.shape)} differs "
            f"from input shape {tuple(input.shape)}; they must be the same"
        )
    # log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)): exp() only ever sees x <= 0.
    # torch.minimum splits the gradient at x == 0 in half, which keeps d/dx exact there.
    log_sig = torch.minimum(input, input.new_zeros(())) - torch.log1p(torch.exp(-input.abs()))
    # log(sigmoid(-x)) = log(sigmoid(x)) - x
    log_sig_neg = log_sig - input
    if pos_weight is None:
        loss = -(target * log_sig + (1 - target) * log_sig_neg)
    else:
        loss = -(pos_weight * target * log_sig + (1 - target) * log_sig_neg)
    return _reduce(loss, reduction)

# my work on ex05_targets.py, version 4
"""Reference solution for exercise 05: one-hot labels and the full `F.cross_entropy`."""
from typing import Optional

import torch

from ex03_cross_entropy import log_softmax

REDUCTIONS = ("mean", "sum", "none")


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Class indices of any shape -> float32 one-hot rows of shape (*labels.shape, C)."""
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"one_hot: labels must be integer class indices, got {labels.dtype}")
    if num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be at least 1, got {num_classes}")
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise ValueError(
            f"one_hot: label {labels[outside].flatten()[0].item()} is outside "
            f"[0, {num_classes}); labels must be class indices 0..{num_classes - 1}"
        )
    classes = torch.arange(num_classes, device=labels.device)
    return (labels.unsqueeze(-1) == classes).to(torch.float32)


def _check_weight(weight: Optional[torch.Tensor], num_classes: int, prefix: str = "") -> None:
    if weight is not None and (weight.dim() != 1 or weight.numel() != num_classes):
        raise RuntimeError(
            f"{prefix}weight tensor should be defined either for all {num_classes} classes or "
            f"no classes but got weight tensor of shape: {list(weight.shape)}"
        )


def _along(weight: torch.Tensor, ndim: int, class_dim: int) -> torch.Tensor:
    """View a (C,) weight so that it broadcasts along `class_dim` of an ndim-D tensor."""
    shape = [1] * ndim
    shape[class_dim] = weight.numel()
    return weight.view(shape)


def _probability_targets(log_probs, target, weight, reduction, label_smoothing, class_dim):
    num_classes = log_probs.shape[class_dim]
    _check_weight(weight, num_classes, prefix="cross_entropy: ")
    if label_smoothing > 0:
        if label_smoothing > 1:
            raise RuntimeError(
                f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
            )
        target = target * (1 - label_smoothing) + label_smoothing / num_classes
    terms = log_probs * target
    if weight is not None:
        terms = terms * _along(weight, log_probs.dim(), class_dim)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    # mean over every sample and position: the weights do NOT normalise here (torch #61309)
    positions = log_probs.numel() // num_classes
    total = -terms.sum()
    return total / positions if positions else total * float("nan")


def _check_index_target(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Validate a class-index target against the input's shape; return it as int64."""
    if input.dim() == 1:
        if target.dim() == 1:
            # torch accepts a (1,) target for (C,) input and treats it as a scalar
            if target.numel() != 1:
                raise ValueError(
                    "For 1D input, 1D target must have size 1, but got target size: "
                    f"{target.numel()}"
                )
            target = target.reshape(())
        elif target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    else:
        target_batch = target.shape[0] if target.dim() > 0 else 0
        if target_batch != input.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                f"({target_batch})."
            )
        if input.dim() == 2 and target.dim() != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if target.shape[1:] != input.shape[2:]:
            expected = [input.shape[0], *input.shape[2:]]
            raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
    if target.dtype not in (torch.int64, torch.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype}")
    return target.long()


def _index_targets(input, log_probs, target, weight, ignore_index, reduction, label_smoothing,
                   class_dim):
    num_classes = log_probs.shape[class_dim]
    _check_weight(weight, num_classes)
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype} but found {weight.dtype}")
    if label_smoothing > 1:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    target = _check_index_target(input, target)
    ignored = target == ignore_index
    outside = ~ignored & ((target < 0) | (target >= num_classes))
    if outside.any():
        raise IndexError(f"Target {target[outside].flatten()[0].item()} is out of bounds.")
    safe_target = target.masked_fill(ignored, 0)  # any valid class; its weight is zeroed below

    per_class = log_probs.movedim(class_dim, -1)  # (..., C), the target's shape plus C
    picked = per_class.gather(-1, safe_target.unsqueeze(-1)).squeeze(-1)  # target's shape
    if weight is None:
        target_weight = (~ignored).to(log_probs.dtype)
    else:
        target_weight = weight[safe_target].masked_fill(ignored, 0)
    # l_n = -w[y_n] * log p_n[y_n], and exactly 0 where ignored (even if that logit is -inf)
    nll = (-target_weight * picked).masked_fill(ignored, 0)

    if label_smoothing > 0:
        # S_n = -sum_c w_c * log p_nc, zero where ignored
        weighted = log_probs
        if weight is not None:
            weighted = log_probs * _along(weight, log_probs.dim(), class_dim)
        smooth = (-weighted.sum(class_dim)).masked_fill(ignored, 0)
    else:
        smooth = None

    if reduction == "none":
        loss = nll
        if smooth is not None:
            loss = (1 - label_smoothing) * nll + (label_smoothing / num_classes) * smooth
        return loss
    # "mean" divides both parts by the total weight of the non-ignored targets
    denominator = target_weight.sum() if reduction == "mean" else 1
    loss = nll.sum() / denominator
    if smooth is not None:
        loss = (1 - label_smoothing) * loss + (label_smoothing / num_classes) * (
            smooth.sum() / denominator
        )
    return loss


def cross_entropy_full(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: Optional[torch.Tensor] = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """`F.cross_entropy` in full: index or probability targets, any number of dimensions."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"cross_entropy_full: reduction must be one of {REDUCTIONS}, not {reduction!r}"
        )
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    class_dim = 0 if input.dim() == 1 else 1
    log_probs = log_softmax(input, dim=class_dim)
    if target.shape == input.shape:  # same shape: class probabilities
        if not target.is_floating_point():
            raise RuntimeError(
                "Expected floating point type for target with class probabilities, "
                f"got {target.dtype}"
            )
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _probability_targets(log_probs, target, weight, reduction, label_smoothing,
                                    class_dim)
    return _index_targets(input, log_probs, target, weight, ignore_index, reduction,
                          label_smoothing, class_dim)

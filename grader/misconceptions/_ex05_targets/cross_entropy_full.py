"""Mistakes learners make writing the full cross-entropy (`cross_entropy_full`) for class
indices: ignored targets, class weights, label smoothing, the target's checks; and those of
any target (the class dimension, the dtype, the range of label_smoothing).

The wrong implementations run in the trusted process, so they lean on torch's own
`F.cross_entropy` for everything but the one mistake each reproduces; where a mistake only
concerns some inputs (weights, probability targets), the others get torch's answer.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Mistake, upcast
from lossgrade.misconceptions._ex05_targets import _class_dim, _probabilities

Tensor = torch.Tensor


def _non_ignored(target: Tensor, ignore_index: int) -> Tensor:
    return (target != ignore_index).sum()


def _ignored_counted(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100,
                     reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """'mean' divides by every target, the ignored ones included."""
    if reduction != "mean" or weight is not None or _probabilities(input, target):
        return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=label_smoothing)
    total = F.cross_entropy(input, target, ignore_index=ignore_index, reduction="sum", label_smoothing=label_smoothing)
    return total / target.numel()


def _all_ignored_is_zero(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100,
                         reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """0 / 0 guarded: 0 instead of nan when no target counts."""
    loss = F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)
    return torch.nan_to_num(loss, nan=0.0)


def _weights_not_in_denominator(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                                ignore_index: int = -100, reduction: str = "mean",
                                label_smoothing: float = 0.0) -> Tensor:
    """Weighted losses, but 'mean' divides by the number of targets, not their total weight."""
    if reduction != "mean" or weight is None or _probabilities(input, target):
        return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=label_smoothing)
    total = F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction="sum",
                            label_smoothing=label_smoothing)
    return total / _non_ignored(target, ignore_index)


def _smoothing_over_other_classes(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                                  ignore_index: int = -100, reduction: str = "mean",
                                  label_smoothing: float = 0.0) -> Tensor:
    """The true class keeps 1 - eps; eps is shared by the C - 1 other classes."""
    if not 0 < label_smoothing <= 1 or weight is not None or _probabilities(input, target):
        return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=label_smoothing)
    num_classes = input.shape[_class_dim(input)]
    log_probs = torch.log_softmax(input, _class_dim(input)).movedim(_class_dim(input), -1)  # (..., C)
    kept = target != ignore_index
    hot = F.one_hot(torch.where(kept, target, 0).long(), num_classes).to(input.dtype)
    soft = hot * (1 - label_smoothing) + (1 - hot) * label_smoothing / (num_classes - 1)
    losses = torch.where(kept, -(soft * log_probs).sum(-1), 0.0)
    if reduction == "none":
        return losses
    return losses.sum() / kept.sum() if reduction == "mean" else losses.sum()


def _by_hand(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100,
             reduction: str = "mean", label_smoothing: float = 0.0, *, class_dim: Optional[int] = None,
             mask_smoothing: bool = True) -> Tensor:
    """F.cross_entropy written out, with one step that a mistake below changes: the dimension
    log-softmax runs over, or the smoothing term left unmasked at ignored positions."""
    F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                    label_smoothing=label_smoothing)  # refuses what torch refuses, as the learner did
    cdim = _class_dim(input)
    classes = input.shape[cdim]
    log_probs = torch.log_softmax(input, dim=cdim if class_dim is None else class_dim)
    w = torch.ones(classes, dtype=input.dtype, device=input.device) if weight is None else weight
    shape = [1] * input.dim()
    shape[cdim] = classes
    eps = max(float(label_smoothing), 0.0)
    if _probabilities(input, target):
        smoothed = target * (1 - eps) + eps / classes
        per = -(w.view(shape) * smoothed * log_probs).sum(cdim)
        return per.mean() if reduction == "mean" else per.sum() if reduction == "sum" else per
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target)).long()
    picked = log_probs.gather(cdim, safe.unsqueeze(cdim)).squeeze(cdim)
    weights = w[safe] * keep
    smooth = -(w.view(shape) * log_probs).sum(cdim)
    if mask_smoothing:
        smooth = smooth * keep
    per = (1 - eps) * (-weights * picked) + (eps / classes) * smooth
    return per.sum() / weights.sum() if reduction == "mean" else per.sum() if reduction == "sum" else per


def _class_dim_last(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100,
                    reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    return _by_hand(input, target, weight, ignore_index, reduction, label_smoothing, class_dim=-1)


def _smoothing_not_masked(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100,
                          reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    return _by_hand(input, target, weight, ignore_index, reduction, label_smoothing, mask_smoothing=False)


def _ignored_range_checked(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100,
                           reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Checks every index target against [0, C) before leaving the ignored ones out: -100 is refused."""
    if not _probabilities(input, target):
        outside = (target < 0) | (target >= input.shape[_class_dim(input)])
        if outside.any():
            raise IndexError(f"Target {target[outside].flatten()[0].item()} is out of bounds.")
    return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)


def _int32_accepted(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100,
                    reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    if target.dtype == torch.int32:
        target = target.long()
    return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)


def _smoothing_unchecked(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100,
                         reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """The smoothing formula applied to any eps, 1.5 included (it is linear in eps)."""
    if label_smoothing <= 1:
        return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=label_smoothing)
    parts = [F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                             label_smoothing=eps) for eps in (0.0, 1.0)]
    return (1 - label_smoothing) * parts[0] + label_smoothing * parts[1]


def _smoothing_unweighted(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100,
                          reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Index targets with weights and smoothing: the eps / C part sums the log-probabilities without
    the class weights (the nll part is weighted, and 'mean' divides both by the total weight)."""
    if weight is None or label_smoothing == 0 or _probabilities(input, target):
        return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=label_smoothing)
    class_dim = _class_dim(input)
    log_probs = torch.log_softmax(input, class_dim)
    kept = target != ignore_index
    nll = F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction="none")
    smooth = torch.where(kept, -log_probs.sum(class_dim), torch.zeros((), dtype=input.dtype))
    num_classes = input.shape[class_dim]
    losses = (1 - label_smoothing) * nll + label_smoothing / num_classes * smooth
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    return total / weight[torch.where(kept, target, 0)].masked_fill(~kept, 0).sum()


def _value_error_for_range(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100,
                           reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Checks the range, but raises ValueError where torch raises IndexError."""
    if not target.is_floating_point() and target.shape != input.shape:
        num_classes = input.shape[_class_dim(input)]
        outside = (target != ignore_index) & ((target < 0) | (target >= num_classes))
        if outside.any():
            raise ValueError(f"Target {target[outside].flatten()[0].item()} is out of bounds.")
    return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)


MISCONCEPTIONS = [
    Mistake(
        id="ex05.all-ignored-zero", function="cross_entropy_full",
        name="Returned 0 instead of nan when every target is ignored",
        message="When every target equals ignore_index, your 'mean' is 0. There is nothing to average, and "
                "torch says so with 0 / 0 = nan ('sum' is 0 and 'none' is all zeros). A 0 would pass for a "
                "perfect prediction; divide by the total weight as it is, without a guard.",
        quiz="targets#ignore-index-in-mean",
        wrong=_all_ignored_is_zero,
    ),
    Mistake(
        id="ex05.ignored-in-denominator", function="cross_entropy_full",
        name="Counted ignored targets in the mean's denominator",
        message="Your 'mean' divides by the number of all targets, ignored ones included, so every padding "
                "token pulls the loss towards 0. Ignored targets are left out of the sum and of the count: "
                "divide by how many targets are not ignored.",
        quiz="targets#ignore-index-in-mean",
        wrong=_ignored_counted,
    ),
    Mistake(
        id="ex05.weight-not-in-denominator", function="cross_entropy_full",
        name="Weighted the losses but divided by the number of targets, not their total weight",
        message="With `weight`, your 'mean' divides the weighted sum by the number of targets. torch divides "
                "by the sum of the targets' weights, so a sample of a class with weight 3 counts like three "
                "samples, and the result stays a weighted average of per-sample losses.",
        quiz="targets#ignore-index-in-mean",
        wrong=_weights_not_in_denominator,
    ),
    Mistake(
        id="ex05.smoothing-over-c-minus-1", function="cross_entropy_full",
        name="Spread label smoothing over the C - 1 other classes instead of all C",
        message="Your smoothed target gives the true class 1 - eps and shares eps among the other classes. "
                "torch spreads eps evenly over all C classes, the true one included: it gets 1 - eps + eps / C "
                "and every other class eps / C.",
        quiz="targets#label-smoothing-over-c-classes",
        wrong=_smoothing_over_other_classes,
    ),
    upcast("ex05", "cross_entropy_full",
           lambda input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0:
           F.cross_entropy(input, target, weight if weight is None else weight.float(), ignore_index=ignore_index,
                           reduction=reduction, label_smoothing=label_smoothing)),
    Mistake(
        id="ex05.int32-target-accepted", function="cross_entropy_full",
        name="Accepted int32 class indices (torch refuses them)",
        message="Given int32 targets your function returned a loss. torch wants class indices as int64 (or "
                "uint8) and raises RuntimeError otherwise; check the target's dtype rather than converting "
                "silently, so that the same code behaves like torch's.",
        quiz="targets#target-dtype",
        wrong=_int32_accepted,
    ),
    Mistake(
        id="ex05.label-smoothing-not-checked", function="cross_entropy_full",
        name="Did not refuse label_smoothing above 1",
        message="Given label_smoothing=1.5 your function returned a loss. eps is a share of probability, "
                "between 0 and 1: above 1 the true class gets a negative target. torch raises RuntimeError; "
                "check the range first.",
        quiz="targets#label-smoothing-over-c-classes",
        wrong=_smoothing_unchecked,
    ),
    Mistake(
        id="ex05.smoothing-ignores-weight", function="cross_entropy_full",
        name="Left the class weights out of the label-smoothing term",
        message="With `weight` and label smoothing, your eps / C part sums the log-probabilities of all classes "
                "unweighted. torch weighs that sum too: S_n = -sum_c w_c * log p_nc, so a class of weight 3 "
                "counts three times in the smoothing as in the main term.",
        quiz="targets#label-smoothing-over-c-classes",
        wrong=_smoothing_unweighted,
    ),
    Mistake(
        id="ex05.target-error-not-indexerror", function="cross_entropy_full",
        name="Raised ValueError (or another type) for a target out of range, not IndexError",
        message="Your check for targets outside [0, C) is there and names the target, but raises another "
                "error type. torch raises IndexError ('Target 5 is out of bounds.'), and code that catches "
                "that error (or a test written against torch) relies on the type: raise IndexError.",
        quiz="targets#index-out-of-range",
        wrong=_value_error_for_range,
    ),
    Mistake(
        id="ex05.class-dim-last", function="cross_entropy_full",
        name="Took log-softmax over the last dimension instead of the class dimension (1)",
        message="For an (N, C, d1, ...) input your log-probabilities are normalised along the last dimension, "
                "which holds positions, not classes. The classes are dimension 1 (0 for a (C,) input): take "
                "log-softmax there, or move that dimension last first (movedim(1, -1)).",
        quiz="targets#target-shape",
        wrong=_class_dim_last,
    ),
    Mistake(
        id="ex05.smoothing-not-masked", function="cross_entropy_full",
        name="Kept the label-smoothing term at ignored targets",
        message="With label_smoothing, an ignored target still adds its smoothing term (eps / C) * S_n to the "
                "loss: the nll part is zeroed, the smoothing part is not. An ignored target costs nothing at "
                "all: zero S_n there too.",
        quiz="targets#ignore-index-in-mean",
        wrong=_smoothing_not_masked,
    ),
    Mistake(
        id="ex05.ignored-target-range-checked", function="cross_entropy_full",
        name="Checked the ignored targets against [0, C) too, so -100 is refused",
        message="Your range check runs before the ignored targets are set aside, so the default ignore_index "
                "-100 raises 'out of bounds'. Leave out the targets equal to ignore_index first, then check that "
                "every other target is in [0, C).",
        quiz="targets#ignore-index-in-mean",
        wrong=_ignored_range_checked,
    ),
]

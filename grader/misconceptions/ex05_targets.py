"""Mistakes learners make with one-hot labels and the full cross-entropy: ignored targets,
class weights, label smoothing and probability targets.

The wrong implementations run in the trusted process, so they lean on torch's own
`F.cross_entropy` for everything but the one mistake each reproduces; where a mistake only
concerns some inputs (weights, probability targets), the others get torch's answer.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Evidence, Mistake, upcast

Tensor = torch.Tensor


def _class_dim(input: Tensor) -> int:
    return 0 if input.dim() == 1 else 1


def _probabilities(input: Tensor, target: Tensor) -> bool:
    return target.shape == input.shape


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


def _probability_weights_normalise(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                                   ignore_index: int = -100, reduction: str = "mean",
                                   label_smoothing: float = 0.0) -> Tensor:
    """Probability targets with weights: 'mean' divides by sum(w_c * y_nc), as for indices."""
    if reduction != "mean" or weight is None or not _probabilities(input, target):
        return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=label_smoothing)
    total = F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction="sum",
                            label_smoothing=label_smoothing)
    shape = [1] * input.dim()
    shape[_class_dim(input)] = -1
    return total / (target * weight.view(shape)).sum()


def _divides_by_weights(evidence: Evidence) -> bool:
    """A probability target's weighted 'mean' is the right sum divided by a total of the
    weights (sum_n sum_c w_c * y_nc, N * mean(w), sum(w)) instead of the number of samples:
    the mistake in any of the forms learners write it, on any draw of the inputs."""
    input, target = evidence.args[0], evidence.args[1]
    weight = evidence.kwargs.get("weight")
    if evidence.kwargs.get("reduction", "mean") != "mean" or weight is None or not _probabilities(input, target) \
            or not target.is_floating_point() or evidence.got.numel() != 1 or evidence.expected is None:
        return False
    smoothing = float(evidence.kwargs.get("label_smoothing", 0.0))
    x, y, w = input.double(), target.double(), weight.double()
    total = F.cross_entropy(x, y, w, reduction="sum", label_smoothing=smoothing)
    got = float(evidence.got.double())
    if not got or not torch.isfinite(total) or abs(got - float(evidence.expected.double())) <= 1e-6 * abs(got):
        return False
    divisor = float(total) / got
    positions = input.numel() // input.shape[_class_dim(input)]
    shape = [1] * input.dim()
    shape[_class_dim(input)] = -1
    smoothed = y * (1 - smoothing) + smoothing / input.shape[_class_dim(input)]
    totals = (float((y * w.view(shape)).sum()), float((smoothed * w.view(shape)).sum()), positions * float(w.mean()),
              float(w.sum()))
    return abs(divisor - positions) > 1e-3 * positions and any(abs(divisor - d) <= 1e-3 * abs(d) for d in totals)


def _probability_mean_over_elements(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                                    ignore_index: int = -100, reduction: str = "mean",
                                    label_smoothing: float = 0.0) -> Tensor:
    """Probability targets: 'mean' averages the (N, C) products, dividing by N * C."""
    if reduction != "mean" or not _probabilities(input, target):
        return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=label_smoothing)
    total = F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction="sum",
                            label_smoothing=label_smoothing)
    return total / input.numel()


def _probabilities_as_argmax(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                             ignore_index: int = -100, reduction: str = "mean",
                             label_smoothing: float = 0.0) -> Tensor:
    """Probability targets turned into class indices with argmax (integer rows are refused)."""
    if _probabilities(input, target) and target.is_floating_point():
        target = target.argmax(_class_dim(input))
    return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)


def _integer_rows_accepted(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                           ignore_index: int = -100, reduction: str = "mean",
                           label_smoothing: float = 0.0) -> Tensor:
    """An integer target of the input's shape read as probabilities (int * float promotes)."""
    if _probabilities(input, target) and not target.is_floating_point():
        target = target.to(input.dtype)
    return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)


def _one_hot_bool(labels: Tensor, num_classes: int) -> Tensor:
    return _one_hot_int64(labels, num_classes).bool()


def _one_hot_classes_from_labels(labels: Tensor, num_classes: int) -> Tensor:
    classes = int(labels.max().item()) + 1 if labels.numel() else num_classes
    return _one_hot_int64(labels, classes).float()


def _one_hot_int64(labels: Tensor, num_classes: int) -> Tensor:
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise ValueError(f"label {labels[outside][0].item()} is outside [0, {num_classes})")
    return F.one_hot(labels, num_classes)


def _one_hot_unchecked(labels: Tensor, num_classes: int) -> Tensor:
    """Compares each label with 0..C-1 without checking the range: a label outside gets a row of 0s."""
    return (labels.unsqueeze(-1) == torch.arange(num_classes, device=labels.device)).to(torch.float32)


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


def _ignore_index_with_probabilities(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                                     ignore_index: int = -100, reduction: str = "mean",
                                     label_smoothing: float = 0.0) -> Tensor:
    """Probability targets computed as if ignore_index were not there."""
    if _probabilities(input, target):
        ignore_index = -100
    return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)


def _ignored_range_checked(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100,
                           reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Checks every index target against [0, C) before leaving the ignored ones out: -100 is refused."""
    if not _probabilities(input, target):
        outside = (target < 0) | (target >= input.shape[_class_dim(input)])
        if outside.any():
            raise IndexError(f"Target {target[outside].flatten()[0].item()} is out of bounds.")
    return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)


def _one_hot_message_without_label(labels: Tensor, num_classes: int) -> Tensor:
    if ((labels < 0) | (labels >= num_classes)).any():
        raise ValueError("labels must be in range")
    return _one_hot_unchecked(labels, num_classes)


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


def _probability_weights_ignored(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                                 ignore_index: int = -100, reduction: str = "mean",
                                 label_smoothing: float = 0.0) -> Tensor:
    """Probability targets: `weight` left out of the terms."""
    if _probabilities(input, target) and target.is_floating_point():
        weight = None
    return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)


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
    # --- one_hot
    Mistake(
        id="ex05.one-hot-int64", function="one_hot",
        name="Returned integer one-hot rows (F.one_hot's int64) instead of float32",
        message="Your one_hot rows have the right 0s and 1s but an integer dtype, as F.one_hot returns. Rows "
                "that are used as probability targets or multiplied with log-probabilities must be floating "
                "point: an integer (N, C) target is refused by F.cross_entropy. Convert the comparison to "
                "float32.",
        quiz="targets#float-one-hot",
        wrong=_one_hot_int64,
    ),
    # --- cross_entropy_full, index targets
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
    # --- cross_entropy_full, probability targets
    Mistake(
        id="ex05.probability-weights-normalise", function="cross_entropy_full",
        name="Divided a probability target's weighted 'mean' by the weights",
        message="With probability targets and `weight`, your 'mean' divides by the targets' total weight, as "
                "it would for class indices. For probability targets torch divides by the number of samples "
                "(times the extra dimensions) and the weights only scale the terms: a known torch quirk that "
                "the checks follow.",
        quiz="targets#float-one-hot",
        wrong=_probability_weights_normalise,
        matches=_divides_by_weights,
    ),
    Mistake(
        id="ex05.probability-mean-over-elements", function="cross_entropy_full",
        name="Averaged a probability target's terms over N * C instead of over the samples",
        message="Your 'mean' for probability targets divides by every element of the (N, C) product, so it "
                "is C times too small. Each sample's loss is the sum over its classes; 'mean' averages those "
                "per-sample losses, one per sample and position.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_probability_mean_over_elements,
    ),
    Mistake(
        id="ex05.probabilities-as-argmax", function="cross_entropy_full",
        name="Turned probability targets into class indices with argmax",
        message="Your result for probability targets equals the loss of each sample's most likely class only. "
                "That is right for one-hot rows and wrong for soft ones (label smoothing, distillation, mixup): "
                "every class with probability y_c contributes -y_c * log p_c.",
        quiz="targets#argmax-of-one-hot",
        wrong=_probabilities_as_argmax,
    ),
    Mistake(
        id="ex05.integer-rows-accepted", function="cross_entropy_full",
        name="Accepted an integer one-hot target as probabilities",
        message="Given int64 one-hot rows of the input's shape, your function returns a loss. torch refuses "
                "them with a RuntimeError: integer targets mean class indices, so integer rows are almost "
                "always one-hot labels passed where indices were expected. Check the target's dtype when its "
                "shape equals the input's.",
        quiz="targets#one-hot-to-cross-entropy",
        wrong=_integer_rows_accepted,
    ),
    Mistake(
        id="ex05.one-hot-bool", function="one_hot",
        name="Returned the boolean comparison itself instead of float32 rows",
        message="Your one_hot rows are the True/False result of comparing each label with the class indices. "
                "They have the right pattern, but a bool tensor cannot serve as a probability target nor be "
                "multiplied with log-probabilities as numbers: convert the comparison to float32.",
        quiz="targets#float-one-hot",
        wrong=_one_hot_bool,
    ),
    Mistake(
        id="ex05.one-hot-classes-from-labels", function="one_hot",
        name="Took the number of classes from the labels (max + 1) instead of num_classes",
        message="Your rows have labels.max() + 1 columns. A batch need not contain the largest class: labels "
                "[1, 0, 2] of a 7-class problem still need rows of length 7, so that every batch lines up with "
                "the model's 7 outputs. Use num_classes.",
        quiz="targets#one-hot-to-cross-entropy",
        wrong=_one_hot_classes_from_labels,
    ),
    upcast("ex05", "cross_entropy_full",
           lambda input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0:
           F.cross_entropy(input, target, weight if weight is None else weight.float(), ignore_index=ignore_index,
                           reduction=reduction, label_smoothing=label_smoothing)),
    Mistake(
        id="ex05.one-hot-range-not-checked", function="one_hot",
        name="Did not refuse a label outside [0, num_classes)",
        message="Given a label of 7 with 5 classes (or -1), your one_hot returned rows instead of raising: the "
                "bad label became a row of zeros, a sample that belongs to no class. Labels outside [0, C) "
                "are a bug in the data; check them first and raise ValueError naming the label.",
        quiz="targets#index-out-of-range",
        wrong=_one_hot_unchecked,
    ),
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
        id="ex05.probability-weights-ignored", function="cross_entropy_full",
        name="Left out the class weights for probability targets",
        message="With probability targets your loss is the same with and without `weight`. The weights apply "
                "to these targets too: each term is -w_c * y_c * log p_c (and 'mean' still divides by the "
                "number of samples, not by the weights).",
        quiz="targets#float-one-hot",
        wrong=_probability_weights_ignored,
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
        id="ex05.ignore-index-with-probabilities", function="cross_entropy_full",
        name="Accepted an ignore_index >= 0 with probability targets",
        message="Given probability targets and ignore_index=1 your function returned a loss. A probability "
                "target has no class index to ignore, and a non-default ignore_index there is a sign of mixed-up "
                "targets: torch raises RuntimeError, and so should you.",
        quiz="targets#float-one-hot",
        wrong=_ignore_index_with_probabilities,
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
    Mistake(
        id="ex05.one-hot-message-incomplete", function="one_hot",
        name="Refused a label out of range, but the message does not name it",
        message="Your ValueError is right, but its message does not say which label is wrong. Put the "
                "offending label in it (and num_classes), so that the person who reads it can find the bad data.",
        quiz="targets#index-out-of-range",
        wrong=_one_hot_message_without_label,
    ),
]

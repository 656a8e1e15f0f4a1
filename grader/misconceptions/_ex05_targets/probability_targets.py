"""Mistakes learners make with probability targets in the full cross-entropy
(`cross_entropy_full` given a target of the input's shape): weights, the 'mean', argmax,
integer rows, ignore_index.

As in `cross_entropy_full.py`, each wrong implementation leans on torch's own `F.cross_entropy`
for everything but the one mistake it reproduces, and gives torch's answer for the inputs
that the mistake does not concern (class indices among them).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Evidence, Mistake
from lossgrade.misconceptions._ex05_targets import _class_dim, _probabilities

Tensor = torch.Tensor


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


def _ignore_index_with_probabilities(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                                     ignore_index: int = -100, reduction: str = "mean",
                                     label_smoothing: float = 0.0) -> Tensor:
    """Probability targets computed as if ignore_index were not there."""
    if _probabilities(input, target):
        ignore_index = -100
    return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)


def _probability_weights_ignored(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                                 ignore_index: int = -100, reduction: str = "mean",
                                 label_smoothing: float = 0.0) -> Tensor:
    """Probability targets: `weight` left out of the terms."""
    if _probabilities(input, target) and target.is_floating_point():
        weight = None
    return F.cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)


MISCONCEPTIONS = [
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
        id="ex05.probability-weights-ignored", function="cross_entropy_full",
        name="Left out the class weights for probability targets",
        message="With probability targets your loss is the same with and without `weight`. The weights apply "
                "to these targets too: each term is -w_c * y_c * log p_c (and 'mean' still divides by the "
                "number of samples, not by the weights).",
        quiz="targets#float-one-hot",
        wrong=_probability_weights_ignored,
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
]

"""Mistakes learners make writing binary cross-entropy on probabilities
(`binary_cross_entropy`).

The wrong implementations run in the trusted process, so they may use torch's own
binary_cross_entropy; each reproduces one mistake and is otherwise right.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Mistake, reduce as _reduce, upcast, validation_mistake
from lossgrade.misconceptions._ex04_bce import _capped_below, _clamped_log, _per_row


def _swapped(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return _reduce(-(input * _clamped_log(target) + (1 - input) * _clamped_log(1 - target)), reduction)


def _log_not_clamped(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return _reduce(-(target * torch.log(input) + (1 - target) * torch.log(1 - input)), reduction)


def _clamp_after_multiply(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    positive = torch.clamp(target * torch.log(input), min=-100)
    negative = torch.clamp((1 - target) * torch.log(1 - input), min=-100)
    return _reduce(-(positive + negative), reduction)


def _only_positive_term(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return _reduce(-target * _clamped_log(input), reduction)


def _bce_sum_for_mean(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    loss = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    return _reduce(loss, "sum" if reduction == "mean" else reduction)


# --- mistakes that come in many variants, recognised by a signature of the error
def _right_bce(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return _reduce(-(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input)), reduction)


def _keras_clamp(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    p = torch.clamp(input, 1e-7, 1 - 1e-7)
    return _reduce(-(target * torch.log(p) + (1 - target) * torch.log(1 - p)), reduction)


def _hard_label_bce(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return _reduce(torch.where(target > 0.5, -_clamped_log(input), -_clamped_log(1 - input)), reduction)


def _empty_mean_zero(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if input.numel() == 0 and reduction == "mean":
        return input.new_zeros(())
    return _right_bce(input, target, reduction)


def _range_unchecked(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Validates the reduction and the shapes, but computes on inputs outside [0, 1] (nan)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    if input.shape != target.shape:
        raise ValueError(f"{tuple(input.shape)} vs {tuple(target.shape)}")
    return _right_bce(input, target, reduction)


def _bce(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if ((input < 0) | (input > 1)).any():
        raise ValueError("probabilities must be in [0, 1]")
    return F.binary_cross_entropy(input, target, reduction=reduction)


def _range_runtime_error(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Refuses inputs outside [0, 1] with RuntimeError, as torch does, where the docstring asks ValueError."""
    if ((input < 0) | (input > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    return F.binary_cross_entropy(input, target, reduction=reduction)


MISCONCEPTIONS = [
    Mistake(
        id="ex04.bce-swapped-arguments", function="binary_cross_entropy",
        name="Swapped the roles of the prediction and the label",
        message="Your loss takes the log of the labels and weighs it by the predictions. The label decides "
                "which log term counts; the prediction is what goes inside the log. With hard labels the log "
                "of a label is log(0), clamped at -100, so the swap shows up as losses of exactly 100 * |p - y|: "
                "10 for p = 0.9 and y = 1.",
        quiz="targets#bce-targets",
        wrong=_swapped,
    ),
    Mistake(
        id="ex04.bce-log-not-clamped", function="binary_cross_entropy",
        name="Took log(p) and log(1 - p) without clamping (nan and inf at 0 and 1)",
        message="Your loss is nan where p = 0 and y = 0, and inf where a prediction is certain and wrong: "
                "log(0) is -inf and 0 * -inf is nan. torch clamps each log at -100 before it multiplies its "
                "label, so a certain mistake costs 100 and a certain right answer 0.",
        quiz="loss-scales#log-zero-clamp",
        wrong=_log_not_clamped,
    ),
    Mistake(
        id="ex04.bce-clamp-after-multiply", function="binary_cross_entropy",
        name="Clamped the products y * log(p) instead of the logs",
        message="You clamped after multiplying by the label. By then 0 * -inf has already become nan, and a "
                "soft label times -inf is clamped to -100 instead of the label times -100. Clamp each log "
                "first, then multiply.",
        quiz="loss-scales#log-zero-clamp",
        wrong=_clamp_after_multiply,
    ),
    Mistake(
        id="ex04.bce-only-positive-term", function="binary_cross_entropy",
        name="Kept only -y * log(p) and dropped the (1 - y) * log(1 - p) term",
        message="Your loss is 0 for every sample labelled 0, whatever the prediction. Binary cross-entropy has "
                "two terms: the negatives pay -log(1 - p), so predicting 0.99 for a 'no' must cost a lot.",
        quiz="choosing-a-loss#bce-equals-two-class-ce",
        wrong=_only_positive_term,
    ),
    Mistake(
        id="ex04.bce-sum-not-mean", function="binary_cross_entropy",
        name="Summed the losses for reduction='mean'",
        message="Your 'mean' equals the sum of the elementwise losses. 'mean' divides by the number of "
                "elements, so that the loss does not grow with the batch size.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_bce_sum_for_mean,
    ),
    Mistake(
        id="ex04.bce-not-negated", function="binary_cross_entropy",
        name="Forgot the minus sign: the loss is negative",
        message="Your losses are y * log(p) + (1 - y) * log(1 - p), which are <= 0: the log-likelihood, not "
                "the loss. Minimising it would push every prediction away from its label; the loss is its "
                "negative, -(y * log(p) + (1 - y) * log(1 - p)).",
        quiz="loss-scales#nll-on-probabilities",
        wrong=lambda input, target, reduction="mean": -_right_bce(input, target, reduction),
    ),
    Mistake(
        id="ex04.bce-hard-labels", function="binary_cross_entropy",
        name="Picked one log term per element with y > 0.5, which is wrong for soft labels",
        message="Your loss takes -log(p) where the label is above 0.5 and -log(1 - p) elsewhere. That is right "
                "for labels of exactly 0 and 1, but a soft label such as 0.3 (label smoothing, averaged "
                "annotations) mixes both terms: y * -log(p) + (1 - y) * -log(1 - p).",
        quiz="targets#bce-targets",
        wrong=_hard_label_bce,
    ),
    Mistake(
        id="ex04.bce-epsilon-clamp", function="binary_cross_entropy",
        name="Clamped p into [eps, 1 - eps] (or added an eps) instead of clamping each log at -100",
        message="A certain and wrong prediction costs -log(eps) in your loss (16.1 for eps = 1e-7, the Keras "
                "default) where torch's costs 100, and a p of 1e-30 for a positive label costs 16.1 instead of "
                "69.08. An epsilon changes the values of confident predictions; torch keeps p as it is and "
                "clamps each log at -100.",
        quiz="loss-scales#log-zero-clamp",
        wrong=_keras_clamp,
        matches=lambda evidence: _capped_below(evidence, cap=90.0),
    ),
    Mistake(
        id="ex04.bce-empty-mean-zero", function="binary_cross_entropy",
        name="Returned 0 for the mean of an empty tensor, where torch gives nan",
        message="For an empty input your 'mean' is 0. There are no elements to average and torch says so: the "
                "mean of nothing is 0 / 0 = nan. A 0 would look like a perfect prediction; use .mean() (or "
                "divide by numel()) without a guard.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_empty_mean_zero,
    ),
    upcast("ex04", "binary_cross_entropy",
           lambda input, target, reduction="mean": _bce(input, target, reduction)),
    Mistake(
        id="ex04.range-not-checked", function="binary_cross_entropy",
        name="Did not refuse inputs outside [0, 1]",
        message="Given values such as -0.1 or 1.2 your binary_cross_entropy returned a value (nan, or a "
                "number that means nothing). Values outside [0, 1] are not probabilities: most often they are "
                "logits passed to the wrong function. Check the range first and raise ValueError, pointing to "
                "the _with_logits version.",
        quiz="logits#sigmoid-before-bce-with-logits",
        wrong=_range_unchecked,
    ),
    validation_mistake("ex04.shape-not-checked", "binary_cross_entropy", "shapes", _bce, shapes=False),
    validation_mistake("ex04.reduction-not-checked", "binary_cross_entropy", "reduction", _bce, reduction=False),
    Mistake(
        id="ex04.range-not-valueerror", function="binary_cross_entropy",
        name="Refused inputs outside [0, 1] with RuntimeError (as torch does), not the ValueError the docstring asks for",
        message="Your binary_cross_entropy refuses values outside [0, 1], which is right, but raises "
                "RuntimeError. The docstring asks for ValueError (an argument with a bad value): raise ValueError, "
                "and say that the values look like logits, which need the _with_logits version.",
        quiz="logits#sigmoid-before-bce-with-logits",
        wrong=_range_runtime_error,
    ),
    Mistake(
        id="ex04.mean-over-rows", function="binary_cross_entropy",
        name="Divided the total by the number of rows instead of the number of elements",
        message="Your 'mean' equals the sum of the losses divided by len(input), the first dimension only. For "
                "an (N, C) input (C labels per sample) torch's mean divides by N*C: use .mean() or .numel().",
        quiz="loss-scales#sum-vs-mean",
        wrong=_per_row(lambda input, target, reduction="mean": _bce(input, target, reduction)),
    ),
]

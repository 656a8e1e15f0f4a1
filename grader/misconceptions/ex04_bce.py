"""Mistakes learners make writing binary cross-entropy, on probabilities and on logits.

The wrong implementations run in the trusted process, so they may use torch's own
logsigmoid; each reproduces one mistake and is otherwise right.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Mistake, reduce as _reduce


def _clamped_log(values: torch.Tensor) -> torch.Tensor:
    return torch.clamp(torch.log(values), min=-100)


# --- binary_cross_entropy mistakes
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


# --- binary_cross_entropy_with_logits mistakes
def _with_logits(x: torch.Tensor, y: torch.Tensor, reduction: str, pos_weight: torch.Tensor | None,
                 weigh_positive: bool = True, weigh_negative: bool = False) -> torch.Tensor:
    """The right formula, with pos_weight applied to the terms asked for."""
    weight = torch.ones(()) if pos_weight is None else pos_weight
    positive = y * F.logsigmoid(x) * (weight if weigh_positive else 1)
    negative = (1 - y) * F.logsigmoid(-x) * (weight if weigh_negative else 1)
    return _reduce(-(positive + negative), reduction)


def _sigmoid_then_log(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                      pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    p = torch.sigmoid(input)
    weight = 1 if pos_weight is None else pos_weight
    return _reduce(-(weight * target * torch.log(p) + (1 - target) * torch.log(1 - p)), reduction)


def _sigmoid_then_bce(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                      pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    p = torch.sigmoid(input)
    weight = 1 if pos_weight is None else pos_weight
    return _reduce(-(weight * target * _clamped_log(p) + (1 - target) * _clamped_log(1 - p)), reduction)


def _naive_softplus(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                    pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    weight = 1 if pos_weight is None else pos_weight
    log_one_plus = torch.log(1 + torch.exp(-input))  # -log(sigmoid(x)), overflowing for x << 0
    return _reduce((1 - target) * input + (1 + (weight - 1) * target) * log_one_plus, reduction)


def _where_without_guard(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                         pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    # Both branches are computed everywhere: exp(-x) overflows where x << 0, exp(x) where x >> 0.
    log_sig = torch.where(input >= 0, -torch.log1p(torch.exp(-input)), input - torch.log1p(torch.exp(input)))
    weight = 1 if pos_weight is None else pos_weight
    return _reduce(-(weight * target * log_sig + (1 - target) * (log_sig - input)), reduction)


MISCONCEPTIONS = [
    # --- binary_cross_entropy
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
    # --- binary_cross_entropy_with_logits
    Mistake(
        id="ex04.sigmoid-then-log", function="binary_cross_entropy_with_logits",
        name="Computed sigmoid(x), then log(p) and log(1 - p): inf for confident logits",
        message="Your loss is inf for large logits: sigmoid(40.0) is exactly 1.0 in float32, so log(1 - p) is "
                "-inf. The logits form exists to avoid this: write log(sigmoid(x)) directly in terms of x, so "
                "that exp() never sees a large positive number.",
        quiz="logits#naive-softmax-overflow",
        wrong=_sigmoid_then_log,
    ),
    Mistake(
        id="ex04.sigmoid-then-clamped-bce", function="binary_cross_entropy_with_logits",
        name="Computed sigmoid(x) and reused the clamped probability BCE (capped at 100)",
        message="Your loss stops at 100 for confident mistakes: you turned the logits into probabilities and "
                "used the clamped binary_cross_entropy. A logit of 1e4 with label 0 should cost 1e4. Work with "
                "x itself so nothing is rounded to 0 or 1 on the way.",
        quiz="loss-scales#log-zero-clamp",
        wrong=_sigmoid_then_bce,
    ),
    Mistake(
        id="ex04.naive-softplus", function="binary_cross_entropy_with_logits",
        name="Used log(1 + exp(-x)), which overflows for very negative logits",
        message="Your loss is inf for large negative logits: exp(-x) overflows when x is below about -88 "
                "(float32). The same quantity can be written so that exp() only ever sees -|x|: use "
                "max(-x, 0) and log1p.",
        quiz="logits#naive-softmax-overflow",
        wrong=_naive_softplus,
    ),
    Mistake(
        id="ex04.where-nan-gradient", function="binary_cross_entropy_with_logits",
        name="Picked a stable formula per sign with torch.where, but the other branch still overflows",
        message="Your values are right, but the gradient is nan for large logits: torch.where computes both "
                "branches for every element, and the branch it discards still overflows to inf; its gradient, "
                "0 times inf, is nan and poisons every weight. Use one formula that is safe for every x "
                "(exp() of -|x| only), or make the discarded branch harmless before it is computed.",
        quiz="logits#naive-softmax-overflow",
        wrong=_where_without_guard,
    ),
    Mistake(
        id="ex04.sigmoid-twice", function="binary_cross_entropy_with_logits",
        name="Applied sigmoid to the logits first (sigmoid twice)",
        message="Your loss equals the logits loss of sigmoid(input): the sigmoid was applied twice. This "
                "function takes raw logits and applies the sigmoid itself; given probabilities, every input "
                "lands in [0.5, 0.73] and the model can never be confident.",
        quiz="logits#sigmoid-before-bce-with-logits",
        wrong=lambda input, target, reduction="mean", pos_weight=None:
            _with_logits(torch.sigmoid(input), target, reduction, pos_weight),
    ),
    Mistake(
        id="ex04.pos-weight-on-negatives", function="binary_cross_entropy_with_logits",
        name="Applied pos_weight to the negative (y = 0) term",
        message="Your pos_weight multiplies the (1 - y) term. It is there to make the rare positive examples "
                "count more: it multiplies y * log(sigmoid(x)) only.",
        quiz="targets#bce-targets",
        wrong=lambda input, target, reduction="mean", pos_weight=None:
            _with_logits(input, target, reduction, pos_weight, False, True),
    ),
    Mistake(
        id="ex04.pos-weight-everywhere", function="binary_cross_entropy_with_logits",
        name="Multiplied the whole loss by pos_weight (that is `weight`, not `pos_weight`)",
        message="Your pos_weight scales both terms, which is what the separate `weight` argument does. "
                "pos_weight changes the balance between positives and negatives: it multiplies the y = 1 term only.",
        quiz="targets#bce-targets",
        wrong=lambda input, target, reduction="mean", pos_weight=None:
            _with_logits(input, target, reduction, pos_weight, True, True),
    ),
]

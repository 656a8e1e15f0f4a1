"""Mistakes learners make writing binary cross-entropy, on probabilities and on logits.

The wrong implementations run in the trusted process, so they may use torch's own
logsigmoid; each reproduces one mistake and is otherwise right.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Evidence, Mistake, reduce as _reduce, upcast, validation_mistake


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


# --- mistakes that come in many variants, recognised by a signature of the error
def _right_bce(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return _reduce(-(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input)), reduction)


def _keras_clamp(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    p = torch.clamp(input, 1e-7, 1 - 1e-7)
    return _reduce(-(target * torch.log(p) + (1 - target) * torch.log(1 - p)), reduction)


def _capped_below(evidence: Evidence, cap: float) -> bool:
    """Right wherever the right loss is moderate, and finite but far below it wherever the right
    loss is large: the signature of an epsilon (or clamped probability) whose log caps each term
    at -log(eps), well under torch's 100 (or under the exact loss, for logits)."""
    got, expected = evidence.got.double(), evidence.expected
    if expected is None or got.shape != expected.shape or got.numel() == 0:
        return False
    expected = expected.double()
    if not bool(torch.isfinite(got).all()) or not bool(torch.isfinite(expected).all()):
        return False
    large = expected > 20
    moderate = expected <= 10
    if not bool(large.any()):
        return False
    capped = bool((got[large] < 0.9 * expected[large]).all()) and bool((got[large] < cap).all())
    return capped and bool(torch.isclose(got[moderate], expected[moderate], rtol=1e-3, atol=1e-4).all())


def _logits_via_epsilon(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                        pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    p = torch.sigmoid(input)
    weight = 1 if pos_weight is None else pos_weight
    return _reduce(-(weight * target * torch.log(p + 1e-7) + (1 - target) * torch.log(1 - p + 1e-7)), reduction)


def _kinked_softplus(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                     pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """max(x, 0) - x * y + log(1 + exp(-|x|)): right values, but autograd's slope of relu and
    |x| at exactly 0 gives the wrong gradient at a logit of 0."""
    weight = 1 if pos_weight is None else pos_weight
    softplus_neg = torch.relu(-input) + torch.log1p(torch.exp(-input.abs()))  # -log(sigmoid(x))
    return _reduce((1 - target) * input + (1 + (weight - 1) * target) * softplus_neg, reduction)


def _wrong_only_at_zero_logits(evidence: Evidence) -> bool:
    """The gradient with respect to the logits is right everywhere but at logits of exactly 0."""
    if not evidence.grads or not evidence.expected_grads:
        return False
    got, want, logits = evidence.grads[0], evidence.expected_grads[0], evidence.args[0]
    if got is None or want is None or got.shape != want.shape or got.shape != logits.shape:
        return False
    rtol, atol = 1e-4, 1e-6
    ok = torch.isclose(got.double(), want.double(), rtol=rtol, atol=atol)
    zero = logits.detach().cpu() == 0
    if not bool(zero.any()) or bool(ok[zero].all()) or not bool(ok[~zero].all()):
        return False
    others = zip(evidence.grads[1:], evidence.expected_grads[1:])
    return all(g is None or w is None or bool(torch.isclose(g.double(), w.double(), rtol=rtol, atol=atol).all())
               for g, w in others)


def _hard_label_bce(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return _reduce(torch.where(target > 0.5, -_clamped_log(input), -_clamped_log(1 - input)), reduction)


def _hard_label_logits(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                       pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    weight = torch.ones(()) if pos_weight is None else pos_weight
    return _reduce(torch.where(target > 0.5, -weight * F.logsigmoid(input), -F.logsigmoid(-input)), reduction)


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


def _per_row(right: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """`right` whose 'mean' divides the total by the number of rows (len(input)), not of elements."""
    def wrong(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", *args: Any, **kwargs: Any) -> torch.Tensor:
        if reduction != "mean" or input.dim() < 2:
            return right(input, target, reduction, *args, **kwargs)
        return right(input, target, "sum", *args, **kwargs) / input.shape[0]
    return wrong


def _bce_logits(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(input, target, reduction=reduction, pos_weight=pos_weight)


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
    Mistake(
        id="ex04.logits-not-negated", function="binary_cross_entropy_with_logits",
        name="Forgot the minus sign: the loss is negative",
        message="Your losses are y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x)), which are <= 0: the "
                "log-likelihood, not the loss. Gradient descent on it would push every logit the wrong way; "
                "the loss is its negative.",
        quiz="loss-scales#nll-on-probabilities",
        wrong=lambda input, target, reduction="mean", pos_weight=None:
            -_with_logits(input, target, reduction, pos_weight),
    ),
    Mistake(
        id="ex04.logits-hard-labels", function="binary_cross_entropy_with_logits",
        name="Picked one log term per element with y > 0.5, which is wrong for soft labels",
        message="Your loss takes -log(sigmoid(x)) where the label is above 0.5 and -log(1 - sigmoid(x)) "
                "elsewhere. That is right for labels of exactly 0 and 1, but a soft label such as 0.3 mixes "
                "both terms, weighted by y and 1 - y.",
        quiz="targets#bce-targets",
        wrong=_hard_label_logits,
    ),
    Mistake(
        id="ex04.logits-via-epsilon", function="binary_cross_entropy_with_logits",
        name="Computed sigmoid(x), then log(p + eps): confident mistakes are capped near -log(eps)",
        message="Your loss stops growing for confident logits: a logit of 1e4 with label 0 costs about "
                "-log(eps) (16.1 for eps = 1e-7) instead of 1e4. The epsilon hides the inf, but the value is "
                "wrong. Work with x itself: log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)) never overflows.",
        quiz="logits#naive-softmax-overflow",
        wrong=_logits_via_epsilon,
        matches=lambda evidence: _capped_below(evidence, cap=90.0),
    ),
    Mistake(
        id="ex04.logits-kink-at-zero", function="binary_cross_entropy_with_logits",
        name="Right values, but the gradient at a logit of exactly 0 is wrong (max(x, 0), relu or |x|)",
        message="Your loss is right, and so is its gradient, except at a logit of exactly 0, where it should be "
                "sigmoid(0) - y = 0.5 - y. max(x, 0), relu and |x| have a kink at 0, and autograd takes the "
                "slope of one side (0 or 1), so a formula built on them is off by 0.5 there: the first step of "
                "a model initialised at 0 goes the wrong way. An elementwise minimum or maximum of two tensors "
                "shares the slope between the two sides; torch.where on x >= 0 with two exact formulas works "
                "too.",
        quiz="logits#sigmoid-of-zero",
        wrong=_kinked_softplus,
        matches=_wrong_only_at_zero_logits,
    ),
    upcast("ex04", "binary_cross_entropy",
           lambda input, target, reduction="mean": _bce(input, target, reduction)),
    upcast("ex04", "binary_cross_entropy_with_logits",
           lambda input, target, reduction="mean", pos_weight=None:
           F.binary_cross_entropy_with_logits(input, target, reduction=reduction, pos_weight=pos_weight)),
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
    validation_mistake("ex04.shape-not-checked", "binary_cross_entropy_with_logits", "shapes", _bce_logits,
                       shapes=False),
    validation_mistake("ex04.reduction-not-checked", "binary_cross_entropy", "reduction", _bce, reduction=False),
    validation_mistake("ex04.reduction-not-checked", "binary_cross_entropy_with_logits", "reduction", _bce_logits,
                       reduction=False),
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
    Mistake(
        id="ex04.mean-over-rows", function="binary_cross_entropy_with_logits",
        name="Divided the total by the number of rows instead of the number of elements",
        message="Your 'mean' equals the sum of the losses divided by len(input), the first dimension only. For "
                "an (N, C) input (C labels per sample) torch's mean divides by N*C: use .mean() or .numel().",
        quiz="loss-scales#sum-vs-mean",
        wrong=_per_row(_bce_logits),
    ),
]

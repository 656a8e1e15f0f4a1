"""Mistakes learners make writing binary cross-entropy on logits
(`binary_cross_entropy_with_logits`).

The wrong implementations run in the trusted process, so they may use torch's own
logsigmoid; each reproduces one mistake and is otherwise right.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Evidence, Mistake, reduce as _reduce, upcast, validation_mistake
from lossgrade.misconceptions._ex04_bce import _capped_below, _clamped_log, _per_row


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


def _hard_label_logits(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                       pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    weight = torch.ones(()) if pos_weight is None else pos_weight
    return _reduce(torch.where(target > 0.5, -weight * F.logsigmoid(input), -F.logsigmoid(-input)), reduction)


def _bce_logits(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(input, target, reduction=reduction, pos_weight=pos_weight)


MISCONCEPTIONS = [
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
    upcast("ex04", "binary_cross_entropy_with_logits",
           lambda input, target, reduction="mean", pos_weight=None:
           F.binary_cross_entropy_with_logits(input, target, reduction=reduction, pos_weight=pos_weight)),
    validation_mistake("ex04.shape-not-checked", "binary_cross_entropy_with_logits", "shapes", _bce_logits,
                       shapes=False),
    validation_mistake("ex04.reduction-not-checked", "binary_cross_entropy_with_logits", "reduction", _bce_logits,
                       reduction=False),
    Mistake(
        id="ex04.mean-over-rows", function="binary_cross_entropy_with_logits",
        name="Divided the total by the number of rows instead of the number of elements",
        message="Your 'mean' equals the sum of the losses divided by len(input), the first dimension only. For "
                "an (N, C) input (C labels per sample) torch's mean divides by N*C: use .mean() or .numel().",
        quiz="loss-scales#sum-vs-mean",
        wrong=_per_row(_bce_logits),
    ),
]

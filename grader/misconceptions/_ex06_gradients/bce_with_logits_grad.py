"""Mistakes learners make deriving the gradient of BCE on logits by hand
(`bce_with_logits_grad`): the sigmoid, the chain rule, the 1/n, a clamp or an unstable
sigmoid.
"""
from __future__ import annotations

import torch

from lossgrade.misconceptions import Evidence, Mistake, upcast
from lossgrade.misconceptions._ex06_gradients import _elementwise

Tensor = torch.Tensor


def _bce_wrt_probability(input: Tensor, target: Tensor) -> Tensor:
    """d/dp of BCE on the probability p = sigmoid(x): the chain rule stopped one step early."""
    p = torch.sigmoid(input)
    return (p - target) / (p * (1 - p)) / input.numel()


def _bce_unstable_sigmoid(input: Tensor, target: Tensor) -> Tensor:
    e = input.exp()
    return (e / (1 + e) - target) / input.numel()


def _bce_clamped(input: Tensor, target: Tensor) -> Tensor:
    return (torch.sigmoid(input).clamp(1e-7, 1 - 1e-7) - target) / input.numel()


def _clamped_signature(evidence: Evidence) -> bool:
    """Wrong only where the sigmoid saturates (within 1e-3 of 0 or 1), and there by at most
    1e-3 / n: a probability clamped into [eps, 1 - eps] (or an eps added) before subtracting."""
    got, expected = evidence.got.double().cpu(), evidence.expected
    if expected is None or got.shape != expected.shape or got.numel() == 0:
        return False
    expected = expected.double().cpu()
    p = torch.sigmoid(evidence.args[0].double().cpu())
    wrong = ~torch.isclose(got, expected, rtol=1e-7, atol=1e-9)
    saturated = (p < 1e-3) | (p > 1 - 1e-3)
    small = (got - expected).abs() * got.numel() <= 1e-3
    return bool(wrong.any()) and bool((saturated & small)[wrong].all())


MISCONCEPTIONS = [
    Mistake(
        id="ex06.bce-no-sigmoid", function="bce_with_logits_grad",
        name="Forgot the sigmoid: used the logits as if they were probabilities",
        message="Your bce_with_logits_grad is (input - target) / n. The inputs are logits, any real number; "
                "the prediction they stand for is sigmoid(logit), and the gradient is that probability minus "
                "the label.",
        quiz="logits#sigmoid-of-zero",
        wrong=_elementwise(lambda input, target: (input - target) / input.numel()),
    ),
    Mistake(
        id="ex06.bce-gradient-of-sum", function="bce_with_logits_grad",
        name="Left out the 1/n of the mean (that is the gradient of the sum)",
        message="Your bce_with_logits_grad is sigmoid(input) - target without dividing by the number of "
                "elements: the gradient of the summed loss. The mean divides every element's share by n.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_elementwise(lambda input, target: torch.sigmoid(input) - target),
    ),
    Mistake(
        id="ex06.bce-extra-sigmoid-derivative", function="bce_with_logits_grad",
        name="Multiplied by the sigmoid's derivative once too often",
        message="Your bce_with_logits_grad carries an extra factor sigmoid(x) * (1 - sigmoid(x)). The log in "
                "the loss cancels the sigmoid's derivative exactly, which is why BCE on logits has the clean "
                "gradient (prediction - label) / n and never stalls on a confident wrong answer.",
        quiz="logits#sigmoid-before-bce-with-logits",
        wrong=_elementwise(lambda input, target: (torch.sigmoid(input) - target) * torch.sigmoid(input)
                           * torch.sigmoid(-input) / input.numel()),
    ),
    Mistake(
        id="ex06.bce-sign-flipped", function="bce_with_logits_grad",
        name="Flipped the sign: label minus sigmoid",
        message="Your bce_with_logits_grad is (target - sigmoid(input)) / n, which points the wrong way. A logit "
                "whose probability is above its label must get a positive gradient, so that gradient descent "
                "(which subtracts it) lowers it: (sigmoid(input) - target) / n.",
        quiz="training-step#learning-rate-too-high",
        wrong=_elementwise(lambda input, target: (target - torch.sigmoid(input)) / input.numel()),
    ),
    Mistake(
        id="ex06.bce-factor-two", function="bce_with_logits_grad",
        name="Carried MSE's factor 2 over to BCE: 2 * (sigmoid - y) / n",
        message="Your bce_with_logits_grad is twice the right gradient. The 2 in MSE's gradient comes from the "
                "square; BCE has no square: the derivative of its log terms with respect to the logit is exactly "
                "sigmoid(x) - y, divided by n for the mean.",
        quiz="logits#sigmoid-before-bce-with-logits",
        wrong=_elementwise(lambda input, target: 2 * (torch.sigmoid(input) - target) / input.numel()),
    ),
    Mistake(
        id="ex06.bce-divided-by-rows", function="bce_with_logits_grad",
        name="Divided by the number of rows instead of the number of elements",
        message="Your bce_with_logits_grad divides by input.shape[0], the number of rows. BCE's mean runs over "
                "every element (every label is its own yes/no question), so divide by input.numel(); only "
                "cross-entropy, with one loss per sample, divides by the number of samples.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_elementwise(lambda input, target: (torch.sigmoid(input) - target) / input.shape[0]),
    ),
    Mistake(
        id="ex06.bce-gradient-wrt-probability", function="bce_with_logits_grad",
        name="Differentiated with respect to the probability, not the logit",
        message="Your bce_with_logits_grad is (p - y) / (p (1 - p)) / n, the gradient with respect to "
                "p = sigmoid(x). The input here is the logit: the chain rule multiplies by dp/dx = p (1 - p), "
                "which cancels the denominator and leaves (sigmoid(x) - y) / n, finite for any logit.",
        quiz="logits#sigmoid-before-bce-with-logits",
        wrong=_elementwise(_bce_wrt_probability),
    ),
    Mistake(
        id="ex06.bce-unstable-sigmoid", function="bce_with_logits_grad",
        name="Wrote the sigmoid as exp(x) / (1 + exp(x)), which is nan for large logits",
        message="exp(x) / (1 + exp(x)) is inf / inf = nan once exp(x) overflows (x above ~88 in float32). "
                "torch.sigmoid(x), or 1 / (1 + exp(-x)) for x >= 0 and exp(x) / (1 + exp(x)) for x < 0, never "
                "overflows.",
        quiz="logits#naive-softmax-overflow",
        wrong=_elementwise(_bce_unstable_sigmoid),
    ),
    Mistake(
        id="ex06.bce-clamped-sigmoid", function="bce_with_logits_grad",
        name="Clamped the sigmoid into [eps, 1 - eps] (or added an eps)",
        message="Your gradient is right except at saturated logits, where it is off by about eps / n: the "
                "probability was clamped (Keras-style) or nudged by an epsilon. The gradient of BCE on logits, "
                "(sigmoid(x) - y) / n, is finite for every logit, so it needs no clamp; autograd's is exact "
                "there, and so must yours be.",
        quiz="loss-scales#log-zero-clamp",
        wrong=_elementwise(_bce_clamped),
        matches=_clamped_signature,
    ),
    Mistake(
        id="ex06.bce-averaged-the-gradient", function="bce_with_logits_grad",
        name="Averaged the gradient into one number",
        message="Your bce_with_logits_grad returns a single number, the mean of sigmoid(input) - target. The "
                "gradient has one entry per logit (the input's shape): each (sigmoid(x_i) - y_i) divided by n.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_elementwise(lambda input, target: (torch.sigmoid(input) - target).mean()),
    ),
    upcast("ex06", "bce_with_logits_grad",
           _elementwise(lambda input, target: (torch.sigmoid(input) - target) / input.numel())),
]

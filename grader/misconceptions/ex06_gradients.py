"""Mistakes learners make deriving the gradients of MSE, cross-entropy and BCE by hand.

Each wrong implementation is the right formula with one slip (a missing 1/n, a missing
factor, a flipped sign, the wrong softmax), computed stably unless the slip is the
instability itself.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Mistake

Tensor = torch.Tensor


def _elementwise(formula: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
    """A wrong mse_grad or bce_with_logits_grad that refuses different shapes, as it should."""

    def wrong(input: Tensor, target: Tensor) -> Tensor:
        if input.shape != target.shape:
            raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
        return formula(input, target)

    return wrong


def _rows(logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """(N, C) logits and (N,) targets; a (C,) sample becomes a batch of one. Refuses a
    target outside [0, C), as it should."""
    outside = (target < 0) | (target >= logits.shape[-1])
    if outside.any():
        raise IndexError(f"Target {target[outside].flatten()[0].item()} is out of bounds.")
    return (logits, target) if logits.dim() == 2 else (logits.unsqueeze(0), target.reshape(1))


def _ce_pieces(logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor, int]:
    """softmax, one-hot and N, for (N, C) or (C,) logits."""
    rows, labels = _rows(logits, target)
    probs = torch.softmax(rows, dim=-1)
    hot = F.one_hot(labels.long(), rows.shape[-1]).to(rows.dtype)
    return probs, hot, rows.shape[0]


def _like(grad: Tensor, logits: Tensor) -> Tensor:
    return grad.reshape(logits.shape)


def _naive_softmax_grad(logits: Tensor, target: Tensor) -> Tensor:
    rows, labels = _rows(logits, target)
    exps = rows.exp()
    hot = F.one_hot(labels.long(), rows.shape[-1]).to(rows.dtype)
    return _like((exps / exps.sum(-1, keepdim=True) - hot) / rows.shape[0], logits)


def _ce(formula: Callable[[Tensor, Tensor, int], Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
    """A wrong cross_entropy_grad from formula(softmax, one_hot, N)."""

    def wrong(logits: Tensor, target: Tensor) -> Tensor:
        probs, hot, n = _ce_pieces(logits, target)
        return _like(formula(probs, hot, n), logits)

    return wrong


MISCONCEPTIONS = [
    # --- mse_grad
    Mistake(
        id="ex06.mse-gradient-of-sum", function="mse_grad",
        name="Left out the 1/n of the mean (that is the gradient of the sum)",
        message="Your mse_grad is 2 * (input - target) without dividing by the number of elements: the "
                "gradient of the summed loss. The loss averages over n elements, so each element's share of "
                "the gradient is divided by n too; otherwise the gradient, and with plain SGD the step, grows with the batch.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_elementwise(lambda input, target: 2 * (input - target)),
    ),
    Mistake(
        id="ex06.mse-missing-two", function="mse_grad",
        name="Dropped the 2 that the square brings down",
        message="Your mse_grad is exactly half of the right gradient. The derivative of d ** 2 is 2 * d: the "
                "1/2 that tidies this away belongs to some textbooks' loss, not to torch's mse_loss.",
        quiz="loss-scales#squared-big-errors",
        wrong=_elementwise(lambda input, target: (input - target) / input.numel()),
    ),
    Mistake(
        id="ex06.mse-sign-flipped", function="mse_grad",
        name="Flipped the sign: differentiated with respect to the target",
        message="Your mse_grad points the opposite way: it is the gradient with respect to `target`, "
                "(target - input) scaled. A prediction that is too high must get a positive gradient, so that "
                "gradient descent (which subtracts it) lowers it.",
        quiz="training-step#learning-rate-too-high",
        wrong=_elementwise(lambda input, target: 2 * (target - input) / input.numel()),
    ),
    # --- cross_entropy_grad
    Mistake(
        id="ex06.ce-gradient-of-sum", function="cross_entropy_grad",
        name="Returned softmax minus one-hot without dividing by N",
        message="Your cross_entropy_grad is softmax - one_hot for every sample, the gradient of the summed "
                "loss. The loss is the mean over N samples, so every row of the gradient is divided by N.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_ce(lambda probs, hot, n: probs - hot),
    ),
    Mistake(
        id="ex06.ce-divided-by-elements", function="cross_entropy_grad",
        name="Divided by N * C instead of the number of samples N",
        message="Your cross_entropy_grad is divided by every element of the (N, C) logits. Cross-entropy "
                "averages one loss per sample, so the mean divides by N alone; the C logits of a sample share "
                "that sample's loss.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_ce(lambda probs, hot, n: (probs - hot) / probs.numel()),
    ),
    Mistake(
        id="ex06.ce-sign-flipped", function="cross_entropy_grad",
        name="Flipped the sign: one-hot minus softmax",
        message="Your cross_entropy_grad is negative where it should be positive. Raising a wrong class's "
                "logit increases the loss, so its gradient is positive (softmax minus 0), and the true class's "
                "is negative: gradient descent subtracts the gradient and pulls the true class up.",
        quiz="training-step#learning-rate-too-high",
        wrong=_ce(lambda probs, hot, n: (hot - probs) / n),
    ),
    Mistake(
        id="ex06.ce-no-one-hot", function="cross_entropy_grad",
        name="Forgot to subtract the one-hot target: returned softmax / N",
        message="Your cross_entropy_grad never looks at the target: it is the softmax divided by N. Each row "
                "of the right gradient sums to 0, because the true class is pulled up by as much as the other "
                "classes are pushed down; subtract 1 at every sample's true class.",
        quiz="loss-scales#confident-and-wrong",
        wrong=_ce(lambda probs, hot, n: probs / n),
    ),
    Mistake(
        id="ex06.ce-log-probabilities", function="cross_entropy_grad",
        name="Used log-probabilities (log_softmax) where the gradient needs probabilities",
        message="Your cross_entropy_grad subtracts the one-hot row from log_softmax. The loss is built from "
                "log-probabilities, but its derivative with respect to the logits is the softmax itself: "
                "probabilities between 0 and 1, minus the one-hot row.",
        quiz="logits#cross-entropy-equals-nll-of-log-softmax",
        wrong=_ce(lambda probs, hot, n: (probs.log() - hot) / n),
    ),
    Mistake(
        id="ex06.ce-naive-softmax", function="cross_entropy_grad",
        name="Exponentiated the raw logits, so large logits give nan",
        message="Your softmax computes exp() of the logits as they are: exp(1e4) is inf, and inf / inf is nan. "
                "Softmax does not change when the same number is subtracted from every logit of a sample; pick "
                "that number so that exp() never sees anything positive.",
        quiz="logits#naive-softmax-overflow",
        wrong=_naive_softmax_grad,
    ),
    # --- bce_with_logits_grad
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
]

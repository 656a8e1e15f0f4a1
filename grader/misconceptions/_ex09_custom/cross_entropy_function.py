"""Mistakes learners make writing a cross-entropy `autograd.Function` (`CrossEntropyFunction`).

A Function mistake is a wrong Function class, which the checks reach through its `apply`:
its forward value names forward mistakes, and its gradients through autograd
(`diagnose_gradients`) name backward mistakes. A backward that returns one gradient instead
of two makes torch itself raise; the check names that mistake from torch's message.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Mistake
from lossgrade.misconceptions._ex09_custom import _pick

Tensor = torch.Tensor
Gradient = Callable[[Tensor, int, Tensor], Tensor]  # (softmax - one_hot, N, grad_output) -> gradient


def _function(gradient: Gradient, reduce: Callable[[Tensor], Tensor] = torch.mean,
              with_none: bool = True, subtract_hot: bool = True) -> type[torch.autograd.Function]:
    """A cross-entropy Function whose forward reduces with `reduce` and whose backward
    returns `gradient(...)` for the logits (and None for the target, unless not)."""

    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, logits: Tensor, target: Tensor) -> Tensor:
            if ((target < 0) | (target >= logits.shape[-1])).any():
                raise IndexError("Target out of bounds.")
            log_probs = torch.log_softmax(logits, -1)
            ctx.save_for_backward(log_probs, target)
            return reduce(-_pick(log_probs, target))

        @staticmethod
        def backward(ctx: Any, grad_output: Tensor) -> Any:
            log_probs, target = ctx.saved_tensors
            hot = F.one_hot(target, log_probs.shape[-1]).to(log_probs.dtype) * subtract_hot
            grad = gradient(log_probs.exp() - hot, len(target), grad_output)
            return (grad, None) if with_none else grad

    return Wrong


def _edits_saved() -> type[torch.autograd.Function]:
    """backward turns the saved log-probabilities into the gradient in place: right the
    first time the graph is walked, wrong (refused by autograd) the next."""

    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, logits: Tensor, target: Tensor) -> Tensor:
            if ((target < 0) | (target >= logits.shape[-1])).any():
                raise IndexError("Target out of bounds.")
            log_probs = torch.log_softmax(logits, -1)
            ctx.save_for_backward(log_probs, target)
            return (-_pick(log_probs, target)).mean()

        @staticmethod
        def backward(ctx: Any, grad_output: Tensor) -> Any:
            log_probs, target = ctx.saved_tensors
            grad = log_probs.exp_()  # the saved tensor itself
            grad[torch.arange(len(target)), target] -= 1
            return grad / len(target) * grad_output, None

    return Wrong


def _forward_over_elements() -> type[torch.autograd.Function]:
    """forward: the mean over every element of the one-hot-masked (N, C) table (divided by
    N * C); backward: ex06's formula, divided by N."""

    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, logits: Tensor, target: Tensor) -> Tensor:
            log_probs = torch.log_softmax(logits, -1)
            hot = F.one_hot(target, logits.shape[-1]).to(logits.dtype)
            ctx.save_for_backward(log_probs, hot)
            return -(hot * log_probs).mean()

        @staticmethod
        def backward(ctx: Any, grad_output: Tensor) -> Any:
            log_probs, hot = ctx.saved_tensors
            return (log_probs.exp() - hot) / len(hot) * grad_output, None

    return Wrong


def _naive_function() -> type[torch.autograd.Function]:
    """A cross-entropy Function whose forward takes the log of an unshifted softmax."""

    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, logits: Tensor, target: Tensor) -> Tensor:
            if ((target < 0) | (target >= logits.shape[-1])).any():
                raise IndexError("Target out of bounds.")
            exps = logits.exp()
            probs = exps / exps.sum(-1, keepdim=True)
            ctx.save_for_backward(probs, target)
            return -_pick(probs, target).log().mean()

        @staticmethod
        def backward(ctx: Any, grad_output: Tensor) -> Any:
            probs, target = ctx.saved_tensors
            hot = F.one_hot(target, probs.shape[-1]).to(probs.dtype)
            return (probs - hot) / len(target) * grad_output, None

    return Wrong


FUNCTION = "CrossEntropyFunction"

MISCONCEPTIONS = [
    Mistake(
        id="ex09.backward-ignores-grad-output", function=FUNCTION,
        name="backward did not multiply by grad_output",
        message="Your backward returns the gradient of the loss itself and drops grad_output. When the loss is "
                "scaled or combined (2 * loss, loss + other), grad_output carries how much the final result "
                "depends on this one; the chain rule multiplies by it.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_function(lambda error, n, upstream: error / n),
    ),
    Mistake(
        id="ex09.backward-gradient-of-sum", function=FUNCTION,
        name="backward left out the 1/N of the mean",
        message="Your forward returns the mean over N samples, but your backward returns softmax - one_hot "
                "without dividing by N: the gradient of the sum. Forward and backward must describe the same "
                "function, which is what gradcheck tests.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_function(lambda error, n, upstream: error * upstream),
    ),
    Mistake(
        id="ex09.backward-one-gradient", function=FUNCTION,
        name="backward returned one gradient, but forward takes two inputs",
        message="backward must return one value per input of forward, in order: the gradient for the logits, "
                "then None for the target (class indices have no gradient). Returning only the logits' "
                "gradient makes torch raise 'returned an incorrect number of gradients'.",
        quiz="targets#target-dtype",
        wrong=_function(lambda error, n, upstream: error / n * upstream, with_none=False),
    ),
    Mistake(
        id="ex09.forward-sum", function=FUNCTION,
        name="forward returned the sum of the losses instead of their mean",
        message="Your Function returns the summed cross-entropy (and a backward to match). It should equal "
                "F.cross_entropy's default, the mean over the N samples, so that its size does not depend on "
                "the batch size.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_function(lambda error, n, upstream: error * upstream, reduce=torch.sum),
    ),
    Mistake(
        id="ex09.backward-sign-flipped", function=FUNCTION,
        name="backward returned one_hot - softmax: the sign is flipped",
        message="Your backward's gradient points the wrong way. Raising a wrong class's logit increases the loss, "
                "so its gradient is positive; the true class's is negative. With this sign gradient descent "
                "would make the model worse at every step.",
        quiz="training-step#learning-rate-too-high",
        wrong=_function(lambda error, n, upstream: -error / n * upstream),
    ),
    Mistake(
        id="ex09.backward-no-one-hot", function=FUNCTION,
        name="backward returned softmax / N without subtracting the one-hot target",
        message="Your backward's gradient never looks at the target: it is the softmax divided by N. The true "
                "class is pulled up by as much as the others are pushed down, so each row of the gradient "
                "sums to 0: subtract 1 at every sample's true class.",
        quiz="loss-scales#confident-and-wrong",
        wrong=_function(lambda error, n, upstream: error / n * upstream, subtract_hot=False),
    ),
    Mistake(
        id="ex09.backward-divided-by-elements", function=FUNCTION,
        name="backward divided by N * C instead of the number of samples N",
        message="Your backward divides by every element of the (N, C) logits. The loss averages one value per "
                "sample, so its gradient divides by N alone.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_function(lambda error, n, upstream: error / error.numel() * upstream),
    ),
    Mistake(
        id="ex09.forward-mean-over-elements", function=FUNCTION,
        name="forward divided by N * C: the mean of the one-hot-masked (N, C) table",
        message="Your forward returns -(one_hot * log_softmax).mean(), which divides by every element of the "
                "table, N * C, where cross-entropy averages one loss per sample (divides by N). Sum each row "
                "(or gather the true class) first, then take the mean over the N samples.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_forward_over_elements(),
    ),
    Mistake(
        id="ex09.function-naive-softmax", function=FUNCTION,
        name="forward exponentiated the raw logits, so large logits give nan or inf",
        message="Your forward computes exp() of the logits as they are: exp(1e4) is inf, and the loss becomes "
                "nan or inf. Subtract each row's maximum before exp() (a stable log-softmax) and keep "
                "log-probabilities, never the log of a probability that rounded to 0.",
        quiz="logits#naive-softmax-overflow",
        wrong=_naive_function(),
    ),
    Mistake(
        id="ex09.backward-edits-saved", function=FUNCTION,
        name="backward changed a tensor that forward saved, in place",
        message="Your backward turns a saved tensor into the gradient in place (`saved.exp_()`, `grad = saved` "
                "then `grad[...] -= 1`). The first backward is right, but the graph is spoiled: a second "
                "backward through it (retain_graph=True, two losses sharing a forward) fails or returns another "
                "gradient. Compute the gradient on a new tensor: `saved.exp()`, `saved.clone()`.",
        quiz="training-step#step-before-backward",
        wrong=_edits_saved(),
        matches=lambda evidence: False,  # named by the check, from a second backward; not from values
    ),
]

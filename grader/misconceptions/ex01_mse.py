"""Mistakes learners make writing mean squared error."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import (
    Mistake, along_one_dim, detached, inplace_breaks_backward, inputs_modified, python_number, reduce as _reduce,
    upcast, validation_mistake,
)


def _squared(input: torch.Tensor, target: torch.Tensor, *_: object) -> torch.Tensor:
    return (input - target) ** 2


def _mean_along_dim(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    squared = _squared(input, target)
    return squared.mean(dim=0) if reduction == "mean" and squared.dim() > 1 else _reduce(squared, reduction)


def _square_of_mean(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Reduces the signed errors first, then squares: (mean d)**2, (sum d)**2."""
    return _reduce(input - target, reduction) ** 2


def _none_flattened(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    squared = _squared(input, target)
    return squared.reshape(-1) if reduction == "none" else _reduce(squared, reduction)


def _MSE(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return F.mse_loss(input, target, reduction=reduction)


MISCONCEPTIONS = [
    Mistake(
        id="ex01.sum-not-mean", function="mse_loss",
        name="Summed the squared errors instead of averaging them",
        message="Your 'mean' result equals the sum of the squared errors. A sum grows with the batch size, "
                "so the same model would look worse with bigger batches; 'mean' divides by the number of elements.",
        quiz="loss-scales#sum-vs-mean",
        wrong=lambda input, target, reduction="mean": ((input - target) ** 2).sum() if reduction == "mean" else _reduce((input - target) ** 2, reduction),
    ),
    Mistake(
        id="ex01.raw-errors", function="mse_loss",
        name="Averaged the raw errors without squaring them",
        message="Your result equals the mean of (input - target). Errors of +2 and -2 cancel to 0, so a model "
                "that is wrong in both directions looks perfect. Squaring makes every error count.",
        quiz="loss-scales#raw-errors-cancel",
        wrong=lambda input, target, reduction="mean": _reduce(input - target, reduction),
    ),
    Mistake(
        id="ex01.absolute-errors", function="mse_loss",
        name="Took absolute errors (that is L1 loss, not MSE)",
        message="Your result equals the mean absolute error. That is a fine loss (ex02), but MSE squares each "
                "error, so large mistakes cost much more than small ones.",
        quiz="choosing-a-loss#mse-vs-l1",
        wrong=lambda input, target, reduction="mean": _reduce((input - target).abs(), reduction),
    ),
    Mistake(
        id="ex01.root-mean", function="mse_loss",
        name="Took the square root (that is RMSE)",
        message="Your result equals the square root of the mean squared error. RMSE is a handy metric in the "
                "target's units, but the loss torch trains with is the mean of the squares, with no root.",
        quiz="loss-scales#rmse-vs-mse",
        wrong=lambda input, target, reduction="mean": _reduce((input - target) ** 2, reduction).sqrt(),
    ),
    Mistake(
        id="ex01.divide-by-rows", function="mse_loss",
        name="Divided by the number of rows instead of the number of elements",
        message="Your 'mean' equals the sum of squared errors divided by len(input), the first dimension only. "
                "For a (N, M) tensor the mean divides by N*M: use .mean() or .numel().",
        quiz="loss-scales#sum-vs-mean",
        wrong=lambda input, target, reduction="mean": ((input - target) ** 2).sum() / len(input) if reduction == "mean" else _reduce((input - target) ** 2, reduction),
    ),
    Mistake(
        id="ex01.half-squared", function="mse_loss",
        name="Halved the squared error (the 1/2 from calculus notes)",
        message="Your result is exactly half of the MSE. Some textbooks put 1/2 in front to tidy the derivative; "
                "torch's mse_loss does not, and checks compare with torch.",
        quiz="loss-scales#half-mse",
        wrong=lambda input, target, reduction="mean": 0.5 * _reduce((input - target) ** 2, reduction),
    ),
    Mistake(
        id="ex01.mean-along-one-dim", function="mse_loss",
        name="Averaged along one dimension instead of over every element",
        message="Your 'mean' returns one value per row or column: you averaged along a single dimension. "
                "reduction='mean' gives one number, the average over every element of the tensor; call .mean() "
                "with no dim.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_mean_along_dim,
        matches=lambda evidence: evidence.kwargs.get("reduction", "mean") == "mean" and along_one_dim(
            evidence, lambda values, d: values.mean(dim=d), _squared),
    ),
    Mistake(
        id="ex01.divide-by-n-minus-1", function="mse_loss",
        name="Divided by N - 1 (the sample-variance correction) instead of N",
        message="Your 'mean' divides the sum of squared errors by one less than the number of elements, as "
                "the unbiased sample variance does. A loss is a plain average: divide by the number of "
                "elements, as .mean() does.",
        quiz="loss-scales#sum-vs-mean",
        wrong=lambda input, target, reduction="mean": ((input - target) ** 2).sum() / (input.numel() - 1)
        if reduction == "mean" else _reduce((input - target) ** 2, reduction),
    ),
    Mistake(
        id="ex01.ignores-reduction", function="mse_loss",
        name="Always returned the mean, whatever `reduction` asked for",
        message="Your mse_loss returns the mean even for reduction='sum' or 'none'. 'sum' adds the squared "
                "errors and 'none' returns them all, in the input's shape, unreduced.",
        quiz="loss-scales#sum-vs-mean",
        wrong=lambda input, target, reduction="mean": ((input - target) ** 2).mean(),
    ),
    Mistake(
        id="ex01.difference-of-squares", function="mse_loss",
        name="Subtracted the squares (input**2 - target**2) instead of squaring the difference",
        message="Your result equals input**2 - target**2: you squared each value, then subtracted. That can be "
                "negative and is 0 whenever |input| equals |target|. Subtract first, then square the error.",
        quiz="loss-scales#squared-big-errors",
        wrong=lambda input, target, reduction="mean": _reduce(input**2 - target**2, reduction),
    ),
    upcast("ex01", "mse_loss", lambda input, target, reduction="mean": F.mse_loss(input, target, reduction=reduction)),
    validation_mistake("ex01.shape-not-checked", "mse_loss", "shapes", _MSE, shapes=False),
    validation_mistake("ex01.shape-message-incomplete", "mse_loss", "message", _MSE, message=False),
    validation_mistake("ex01.reduction-not-checked", "mse_loss", "reduction", _MSE, reduction=False),
    Mistake(
        id="ex01.square-of-mean", function="mse_loss",
        name="Averaged the errors first and squared the average",
        message="Your 'mean' equals (mean of input - target) squared: you reduced before squaring, so errors of "
                "+2 and -2 still cancel (to 0) before the square can make them count. Square every error "
                "first, then average the squares.",
        quiz="loss-scales#raw-errors-cancel",
        wrong=_square_of_mean,
    ),
    Mistake(
        id="ex01.none-flattened", function="mse_loss",
        name="reduction='none' returned the squared errors flattened, not in the input's shape",
        message="Your 'none' values are right but come back as one flat row (a .view(-1), .flatten() or a "
                "Python list on the way). 'none' keeps the input's shape, so that each loss stays next to its "
                "sample: return (input - target) ** 2 as it is.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_none_flattened,
    ),
    python_number("ex01", "mse_loss", _MSE),
    inplace_breaks_backward("ex01", "mse_loss", _MSE),
    detached("ex01", "mse_loss", _MSE),
    inputs_modified("ex01", "mse_loss", _MSE),
]

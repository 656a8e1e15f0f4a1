"""Mistakes learners make writing mean squared error."""
from __future__ import annotations

from lossgrade.misconceptions import Mistake, reduce as _reduce


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
]

"""Mistakes learners make writing mean error, L1 and Huber losses."""
from __future__ import annotations

import torch

import torch.nn.functional as F

from lossgrade.misconceptions import (
    Mistake, gradient_wrong_only_where, python_number, reduce as _reduce, upcast, validation_mistake,
)


def _huber_no_half(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                   delta: float = 1.0) -> torch.Tensor:
    d, _, linear = _huber_pieces(input, target, delta)
    return _reduce(torch.where(d < delta, d**2, linear), reduction)


def _huber_pieces(input: torch.Tensor, target: torch.Tensor,
                  delta: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    d = (input - target).abs()
    return d, 0.5 * d**2, delta * (d - 0.5 * delta)


def _smooth_l1(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0) -> torch.Tensor:
    d = (input - target).abs()
    return _reduce(torch.where(d < delta, 0.5 * d**2 / delta, d - 0.5 * delta), reduction)


def _huber_linear_without_delta(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                                delta: float = 1.0) -> torch.Tensor:
    d, quadratic, _ = _huber_pieces(input, target, delta)
    return _reduce(torch.where(d < delta, quadratic, d - 0.5 * delta), reduction)


def _huber_no_offset(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                     delta: float = 1.0) -> torch.Tensor:
    d, quadratic, _ = _huber_pieces(input, target, delta)
    return _reduce(torch.where(d < delta, quadratic, delta * d), reduction)


def _huber_signed_threshold(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                            delta: float = 1.0) -> torch.Tensor:
    _, quadratic, linear = _huber_pieces(input, target, delta)
    return _reduce(torch.where(input - target < delta, quadratic, linear), reduction)


def _huber_gap_at_delta(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                        delta: float = 1.0) -> torch.Tensor:
    d, quadratic, linear = _huber_pieces(input, target, delta)
    return _reduce(torch.where(d < delta, quadratic, 0.0) + torch.where(d > delta, linear, 0.0), reduction)


def _huber_signed_linear(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                         delta: float = 1.0) -> torch.Tensor:
    """The piece is chosen on |d|, but the linear piece is written with the signed d."""
    d = input - target
    return _reduce(torch.where(d.abs() < delta, 0.5 * d**2, delta * (d - 0.5 * delta)), reduction)


def _delta_runtime_error(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                         delta: float = 1.0) -> torch.Tensor:
    """Refuses delta <= 0 as torch does, with RuntimeError, where the course asks ValueError."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _huber(input, target, reduction, delta)


def _mean_error(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (input - target).mean()


def _l1(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return F.l1_loss(input, target, reduction=reduction)


def _huber(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0) -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    if delta <= 0:
        raise ValueError("delta must be > 0")
    return F.huber_loss(input, target, reduction=reduction, delta=delta)


MISCONCEPTIONS = [
    # --- mean_error
    Mistake(
        id="ex02.mean-error-abs", function="mean_error",
        name="Took the absolute value of the errors (that is L1 loss)",
        message="Your mean_error equals the mean absolute error. This function exists to show what happens "
                "without abs or squaring: +2 and -2 must cancel to 0. Keep the sign of every error.",
        quiz="loss-scales#raw-errors-cancel",
        wrong=lambda input, target: (input - target).abs().mean(),
    ),
    Mistake(
        id="ex02.mean-error-squared", function="mean_error",
        name="Squared the errors (that is MSE)",
        message="Your mean_error equals the mean squared error. Squaring removes the sign, which is exactly "
                "what mean_error must not do: it is the signed average, where opposite errors cancel.",
        quiz="loss-scales#raw-errors-cancel",
        wrong=lambda input, target: ((input - target) ** 2).mean(),
    ),
    Mistake(
        id="ex02.mean-error-reversed", function="mean_error",
        name="Subtracted the prediction from the target (the sign is flipped)",
        message="Your mean_error has the right size but the opposite sign: you computed target - input. The "
                "convention (and torch's, for every loss) is input - target, so a positive mean error means "
                "the predictions are too high.",
        quiz="loss-scales#raw-errors-cancel",
        wrong=lambda input, target: (target - input).mean(),
    ),
    Mistake(
        id="ex02.mean-error-per-column", function="mean_error",
        name="Averaged along the first dimension only (one number per column)",
        message="Your mean_error returns one value per column: you averaged over dim 0. The mean error is one "
                "number for the whole tensor, the average over every element.",
        quiz="loss-scales#sum-vs-mean",
        wrong=lambda input, target: (input - target).mean(dim=0),
    ),
    # --- l1_loss
    Mistake(
        id="ex02.l1-no-abs", function="l1_loss",
        name="Forgot the absolute value (that is the mean error)",
        message="Your l1_loss equals the signed mean of input - target, so over- and under-estimates cancel "
                "and a bad model can score 0. L1 takes the size of every error before reducing.",
        quiz="loss-scales#raw-errors-cancel",
        wrong=lambda input, target, reduction="mean": _reduce(input - target, reduction),
    ),
    Mistake(
        id="ex02.l1-sum-not-mean", function="l1_loss",
        name="Summed the absolute errors for reduction='mean'",
        message="Your 'mean' result equals the sum of the absolute errors. A sum grows with the batch size; "
                "'mean' divides by the number of elements.",
        quiz="loss-scales#sum-vs-mean",
        wrong=lambda input, target, reduction="mean": (input - target).abs().sum() if reduction == "mean"
        else _reduce((input - target).abs(), reduction),
    ),
    Mistake(
        id="ex02.l1-ignores-reduction", function="l1_loss",
        name="Always returned the mean, whatever `reduction` asked for",
        message="Your l1_loss returns the mean even for reduction='sum' or 'none'. 'sum' adds the absolute "
                "errors and 'none' returns them all, in the input's shape, unreduced.",
        quiz="loss-scales#sum-vs-mean",
        wrong=lambda input, target, reduction="mean": (input - target).abs().mean(),
    ),
    Mistake(
        id="ex02.l1-sqrt-of-square", function="l1_loss",
        name="Wrote |d| as sqrt(d**2): right values, nan gradient at a zero error",
        message="Your values are right, but the gradient is nan wherever input equals target: the slope of "
                "sqrt(d**2) is d / sqrt(d**2), which is 0 / 0 at d = 0. One sample predicted exactly right would "
                "turn every weight into nan. torch's absolute value gives slope 0 there; use it.",
        quiz="choosing-a-loss#outliers-huber",
        wrong=lambda input, target, reduction="mean": _reduce(torch.sqrt((input - target) ** 2), reduction),
    ),
    Mistake(
        id="ex02.l1-where-slope-at-zero", function="l1_loss",
        name="Chose between d and -d with d >= 0 (or d > 0): the slope at a zero error is +-1, not 0",
        message="Your values are right, but where input equals target your gradient is +1 (so gradient descent "
                "lowers a prediction that was exactly right) instead of 0 (or -1, with d > 0): the branch for "
                "d >= 0 decides the slope at exactly 0. A prediction "
                "that is already right should not be pushed; torch's absolute value has slope 0 at 0.",
        quiz="choosing-a-loss#outliers-huber",
        wrong=lambda input, target, reduction="mean":
            _reduce(torch.where(input - target >= 0, input - target, target - input), reduction),
        matches=lambda evidence: gradient_wrong_only_where(evidence, (evidence.args[0] == evidence.args[1]).cpu()),
    ),
    # --- huber_loss
    Mistake(
        id="ex02.huber-smooth-l1", function="huber_loss",
        name="Wrote smooth_l1 (0.5 * d**2 / delta and |d| - 0.5 * delta), not Huber",
        message="Your huber_loss equals smooth_l1_loss with beta = delta. The two agree only when delta is 1: "
                "Huber's quadratic piece does not divide by delta, and its linear piece has slope delta, not 1. "
                "Scale one of them by delta and you get the other.",
        quiz="choosing-a-loss#outliers-huber",
        wrong=_smooth_l1,
    ),
    Mistake(
        id="ex02.huber-linear-without-delta", function="huber_loss",
        name="The linear piece has slope 1 instead of slope delta",
        message="Your linear piece is |d| - 0.5 * delta. Huber's linear piece must meet the parabola with the "
                "same slope, and the parabola's slope at |d| = delta is delta: multiply the linear piece by delta.",
        quiz="choosing-a-loss#outliers-huber",
        wrong=_huber_linear_without_delta,
    ),
    Mistake(
        id="ex02.huber-no-offset", function="huber_loss",
        name="The linear piece is delta * |d|, without the - 0.5 * delta offset",
        message="Your linear piece does not start where the parabola ends: at |d| = delta the parabola is "
                "0.5 * delta**2 but delta * |d| is delta**2, so the loss jumps. Shift the line down by half "
                "a delta inside the bracket.",
        quiz="choosing-a-loss#outliers-huber",
        wrong=_huber_no_offset,
    ),
    Mistake(
        id="ex02.huber-signed-threshold", function="huber_loss",
        name="Compared the signed error with delta, so large negative errors stay quadratic",
        message="Your choice of piece uses input - target rather than its absolute value: every prediction "
                "that is too low counts as 'small' and is squared, however far off it is. Decide the piece "
                "on |input - target|.",
        quiz="choosing-a-loss#outliers-huber",
        wrong=_huber_signed_threshold,
    ),
    Mistake(
        id="ex02.huber-gap-at-delta", function="huber_loss",
        name="An error of exactly delta takes neither piece (it costs 0)",
        message="Your loss is 0 where |input - target| equals delta exactly: one piece is chosen with "
                "'< delta' and the other with '> delta', so equality falls between them. Make the second "
                "condition the opposite of the first (torch uses the linear piece at equality).",
        quiz="choosing-a-loss#outliers-huber",
        wrong=_huber_gap_at_delta,
    ),
    Mistake(
        id="ex02.mean-error-sum", function="mean_error",
        name="Summed the signed errors instead of averaging them",
        message="Your mean_error equals the sum of input - target. The mean error is an average: divide the "
                "sum by the number of elements (or call .mean()), so it does not grow with the batch size.",
        quiz="loss-scales#sum-vs-mean",
        wrong=lambda input, target: (input - target).sum(),
    ),
    Mistake(
        id="ex02.l1-squared", function="l1_loss",
        name="Squared the errors (that is MSE, not L1)",
        message="Your l1_loss equals the mean squared error. L1 takes the absolute value of each error, so an "
                "error of 4 costs 4, not 16: that is what makes it robust to outliers.",
        quiz="choosing-a-loss#mse-vs-l1",
        wrong=lambda input, target, reduction="mean": _reduce((input - target) ** 2, reduction),
    ),
    Mistake(
        id="ex02.huber-no-half", function="huber_loss",
        name="The quadratic piece is d**2, without the factor 0.5",
        message="Your quadratic piece is d**2. Huber's is 0.5 * d**2: with the half, its slope at |d| = delta "
                "is delta, the slope of the linear piece, and the two meet at the same value, 0.5 * delta**2.",
        quiz="choosing-a-loss#outliers-huber",
        wrong=_huber_no_half,
    ),
    upcast("ex02", "mean_error", lambda input, target: (input - target).mean()),
    upcast("ex02", "l1_loss", lambda input, target, reduction="mean": F.l1_loss(input, target, reduction=reduction)),
    upcast("ex02", "huber_loss", lambda input, target, reduction="mean", delta=1.0:
           _huber(input, target, reduction, delta)),
    validation_mistake("ex02.shape-not-checked", "mean_error", "shapes", _mean_error, shapes=False),
    validation_mistake("ex02.shape-message-incomplete", "mean_error", "message", _mean_error, message=False),
    validation_mistake("ex02.reduction-not-checked", "l1_loss", "reduction", _l1, reduction=False),
    validation_mistake("ex02.reduction-not-checked", "huber_loss", "reduction", _huber, reduction=False),
    Mistake(
        id="ex02.delta-not-checked", function="huber_loss",
        name="Did not refuse a delta of 0 or less",
        message="Given delta=0 (or a negative delta) your huber_loss returned a value. With delta <= 0 there is "
                "no quadratic piece and the linear one has slope 0 or less: the loss is meaningless. Raise "
                "ValueError for delta <= 0 before computing.",
        quiz="choosing-a-loss#outliers-huber",
        wrong=lambda input, target, reduction="mean", delta=1.0: _huber(input, target, reduction, delta)
        if delta > 0 else _reduce(delta * ((input - target).abs() - 0.5 * delta), reduction)
        if reduction in ("mean", "sum", "none") else _huber(input, target, reduction, delta),
    ),
    Mistake(
        id="ex02.delta-not-valueerror", function="huber_loss",
        name="Refused delta <= 0 with RuntimeError (as torch does), not the ValueError the docstring asks for",
        message="Your huber_loss refuses a delta of 0 or less, which is right, but raises RuntimeError. The "
                "docstring asks for ValueError (torch's RuntimeError is one of the places where this course "
                "departs from it on purpose: a bad argument is a ValueError): raise ValueError.",
        quiz="choosing-a-loss#outliers-huber",
        wrong=_delta_runtime_error,
    ),
    Mistake(
        id="ex02.huber-signed-linear", function="huber_loss",
        name="Wrote the linear piece with the signed error d instead of |d|",
        message="Your pieces are chosen on |input - target|, but the linear piece uses the signed error: a "
                "large error in the too-low direction gets a negative loss, so the model is rewarded for it. "
                "Both pieces take |d|: delta * (|d| - 0.5 * delta).",
        quiz="choosing-a-loss#outliers-huber",
        wrong=_huber_signed_linear,
    ),
    python_number("ex02", "mean_error", _mean_error),
]

"""Mistakes learners make with log-cosh: each with a wrong implementation that reproduces it,
so `lossgrade course check` can prove the checks catch it and the diagnosis names it."""
import math

import torch

from lossgrade.misconceptions import Mistake, reduce as _reduce


def _stable(d: torch.Tensor) -> torch.Tensor:
    """log(cosh(d)) without overflow: |d| + log(1 + exp(-2|d|)) - log(2)."""
    d = d.abs()
    return d + torch.log1p(torch.exp(-2 * d)) - math.log(2.0)


MISCONCEPTIONS = [
    Mistake(
        id="ex90.naive-cosh-overflow", function="log_cosh_loss",
        name="Computed log(cosh(d)) directly, which overflows",
        message="cosh(d) is larger than float32 can hold once |d| passes about 89, so the loss becomes inf. "
                "Take |d| out of the exponential so nothing large is ever exponentiated.",
        quiz="course-log-cosh#overflow",
        wrong=lambda input, target, reduction="mean": _reduce(torch.log(torch.cosh(input - target)), reduction),
    ),
    Mistake(
        id="ex90.sum-not-mean", function="log_cosh_loss",
        name="Summed instead of averaging",
        message="Your 'mean' equals the sum; divide by the number of elements.",
        quiz=None,
        # Only the reduction is wrong: the values are computed stably, as the solution does, so
        # that this mistake and the overflow above never look alike on reduction='none'.
        wrong=lambda input, target, reduction="mean": _reduce(_stable(input - target), "sum" if reduction == "mean" else reduction),
    ),
]

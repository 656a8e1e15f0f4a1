"""Checks for exercise 02: `mean_error`, `l1_loss` and `huber_loss` from scratch.

Huber is always checked with delta != 1 as well: at delta = 1 it coincides with
smooth_l1, so only another delta tells the two formulas apart.
"""
from __future__ import annotations

from typing import Any

import torch

from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.checks.naming import expect_refusal, expect_shapes_named

checks = Checks("ex02_l1_huber")

REDUCTIONS = ("mean", "sum", "none")
# Largest first: a wrong formula is then first seen on many elements, small and large errors both.
SHAPES = [(2, 3, 4), (7,), (1, 4), (1,), (), (0,)]
LOW_PRECISION = (torch.float16, torch.bfloat16)  # the result keeps them: no upcast to float32


def _what(dtype: torch.dtype) -> str:
    return f"The {str(dtype).removeprefix('torch.')} result"


def _near_1000(t: CheckContext, *shape: int) -> torch.Tensor:
    """float64 values near 1000 that differ in the 4th decimal: float32 cannot hold them."""
    return 1000.0 + t.randn(*shape, dtype=torch.float64, scale=1e-3)


def _expect_gradients(t: CheckContext, function: str, x: torch.Tensor, y: torch.Tensor, **kwargs: Any) -> None:
    """Gradients for both arguments: 'mean' and 'sum', then 'none' under a random upstream gradient."""
    for reduction in ("mean", "sum"):
        t.expect_close(function, x, y, reduction=reduction, grad_wrt=(0, 1), **kwargs)
    upstream = t.randn(*x.shape, dtype=x.dtype)
    t.expect_close(function, x, y, reduction="none", grad_wrt=(0, 1), grad_output=upstream, **kwargs)


# --- mean_error ----------------------------------------------------------------------
@checks.add("mean_error of predictions [6, 3] against targets [4, 5] is 0: errors of +2 and -2 cancel",
            hint="Keep the sign of each error: no abs() and no square, just the average of input - target.")
def mean_error_worked_example(t: CheckContext) -> None:
    t.expect_close("mean_error", torch.tensor([6.0, 3.0]), torch.tensor([4.0, 5.0]))
    t.expect_close("mean_error", torch.tensor([2.5, 0.0, 2.1, 7.8]), torch.tensor([3.0, -0.5, 2.0, 7.0]),
                   what="The mean error (positive when predictions are too high)")


@checks.add("mean_error returns one number for every shape (a scalar, a batch of 1, 2-D and 3-D tensors), "
            "in the input's dtype (float16 and bfloat16 too), with gradients", devices=True,
            hint="Average over every element, not along one dimension, and keep the result a tensor.")
def mean_error_shapes(t: CheckContext) -> None:
    for shape in [(1,), (7,), (), (5, 3), (2, 3, 4)]:
        t.expect_close("mean_error", t.randn(*shape), t.randn(*shape), grad_wrt=(0, 1))
    x64, y64 = t.randn(4, 3, dtype=torch.float64), t.randn(4, 3, dtype=torch.float64)
    t.expect_close("mean_error", x64, y64, grad_wrt=(0, 1))
    t.expect_close("mean_error", _near_1000(t, 6), _near_1000(t, 6), what="The float64 result")
    for dtype in LOW_PRECISION:
        t.expect_close("mean_error", t.randn(4, 3, dtype=dtype), t.randn(4, 3, dtype=dtype), what=_what(dtype))


@checks.add("mean_error refuses an (N, 1) input against an (N,) target, naming both shapes",
            hint="Compare input.shape with target.shape first and put both shapes in the ValueError's message.")
def mean_error_shape_mismatch(t: CheckContext) -> None:
    why = "Broadcasting (4, 1) against (4,) would average a (4, 4) table of every prediction minus every target."
    named = {"returned": "ex02.shape-not-checked", "incomplete": "ex02.shape-message-incomplete"}
    expect_shapes_named(t, "mean_error", t.randn(4, 1), t.randn(4), shapes=((4, 1), (4,)), why=why, **named)
    expect_shapes_named(t, "mean_error", t.randn(2, 3), t.randn(3, 2), shapes=((2, 3), (3, 2)), **named)


# --- l1_loss ------------------------------------------------------------------------
@checks.add("l1_loss gives 2.0 for predictions [6, 3] against [4, 5], and 0.475 on the exercise's second example",
            hint="Every error counts with its size, whatever its sign.")
def l1_worked_example(t: CheckContext) -> None:
    t.expect_close("l1_loss", torch.tensor([6.0, 3.0]), torch.tensor([4.0, 5.0]))
    t.expect_close("l1_loss", torch.tensor([2.5, 0.0, 2.1, 7.8]), torch.tensor([3.0, -0.5, 2.0, 7.0]))


@checks.add("l1_loss matches the reference for reduction='mean', 'sum' and 'none', in float32 and float64, "
            "and keeps float16 and bfloat16",
            devices=True,
            hint="'mean' divides by the number of elements, 'sum' does not, 'none' keeps every element; "
                 "the result keeps the input's dtype and device.")
def l1_reductions(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        x, y = t.randn(5, 3, dtype=dtype, scale=3.0), t.randn(5, 3, dtype=dtype, scale=3.0)
        for reduction in REDUCTIONS:
            t.expect_close("l1_loss", x, y, reduction=reduction)
    for reduction in REDUCTIONS:
        t.expect_close("l1_loss", _near_1000(t, 6), _near_1000(t, 6), reduction=reduction, what="The float64 result")
    for dtype in LOW_PRECISION:
        x, y = t.randn(5, 3, dtype=dtype, scale=3.0), t.randn(5, 3, dtype=dtype, scale=3.0)
        for reduction in ("mean", "none"):
            t.expect_close("l1_loss", x, y, reduction=reduction, what=_what(dtype))


@checks.add("l1_loss works for every shape: a batch of 1, a single (C,) sample, a scalar, 3-D and empty tensors",
            hint="Reduce over every element of the tensor, not over one dimension.")
def l1_shapes(t: CheckContext) -> None:
    for shape in SHAPES:
        x, y = t.randn(*shape), t.randn(*shape)
        for reduction in REDUCTIONS:
            t.expect_close("l1_loss", x, y, reduction=reduction)


@checks.add("gradients through l1_loss match autograd through the reference, including 0 where an error is exactly 0",
            devices=True,
            hint="The slope of |d| is -1, 0 or +1: torch uses 0 at d == 0. Use an operation whose gradient "
                 "at 0 is 0, and build the loss from tensor operations so autograd can follow it.")
def l1_gradients(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        x, y = t.randn(4, 3, dtype=dtype), t.randn(4, 3, dtype=dtype)
        _expect_gradients(t, "l1_loss", x, y)
    x = torch.tensor([1.0, 2.0, -3.0, 0.5, 0.0, -1.5])
    y = torch.tensor([1.0, 0.0, -3.0, 0.5, 0.0, 1.0])  # four errors of exactly 0, one above, one below
    for reduction in ("mean", "sum"):
        t.expect_close("l1_loss", x, y, reduction=reduction, grad_wrt=(0, 1), what="The loss at zero errors")


@checks.add("l1_loss raises ValueError for a reduction other than 'mean', 'sum' or 'none'",
            hint="Check `reduction` against the three allowed names and raise ValueError otherwise.")
def l1_bad_reduction(t: CheckContext) -> None:
    for reduction in ("average", "MEAN", "max"):
        expect_refusal(t, "l1_loss", t.randn(3), t.randn(3), reduction=reduction, errors=("ValueError",),
                       returned="ex02.reduction-not-checked")


# --- huber_loss ---------------------------------------------------------------------
@checks.add("huber_loss gives the exercise's worked examples: 1.5 for [6, 3] against [4, 5], "
            "0.14375 with delta=1 and 0.1025 with delta=0.3",
            hint="Below delta the loss is 0.5 * d**2; from delta on it grows in a straight line of slope "
                 "delta, starting where the parabola ends.")
def huber_worked_example(t: CheckContext) -> None:
    t.expect_close("huber_loss", torch.tensor([6.0, 3.0]), torch.tensor([4.0, 5.0]))
    x, y = torch.tensor([2.5, 0.0, 2.1, 7.8]), torch.tensor([3.0, -0.5, 2.0, 7.0])
    t.expect_close("huber_loss", x, y)
    t.expect_close("huber_loss", x, y, delta=0.3)
    t.expect_close("huber_loss", x, y, reduction="none", delta=0.3)


@checks.add("huber_loss matches torch's Huber loss for delta 0.5, 2 and 3.7 (not smooth_l1), for every reduction, "
            "in float32 and float64, and keeps float16 and bfloat16", devices=True,
            hint="Huber with delta and smooth_l1 with beta only agree when both are 1: the quadratic piece of "
                 "Huber is 0.5 * d**2 (no division), the linear one delta * (|d| - 0.5 * delta).")
def huber_delta(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        x, y = t.randn(6, 4, dtype=dtype, scale=2.5), t.randn(6, 4, dtype=dtype, scale=2.5)
        for delta in (0.5, 2.0, 3.7):
            for reduction in REDUCTIONS:
                t.expect_close("huber_loss", x, y, reduction=reduction, delta=delta)
    t.expect_close("huber_loss", _near_1000(t, 6), _near_1000(t, 6), reduction="none", delta=0.5,
                   what="The float64 result")
    for dtype in LOW_PRECISION:
        x, y = t.randn(6, 4, dtype=dtype, scale=2.5), t.randn(6, 4, dtype=dtype, scale=2.5)
        x = _off_the_boundary(x, y, 2.0)
        for reduction in ("mean", "none"):
            t.expect_close("huber_loss", x, y, reduction=reduction, delta=2.0, what=_what(dtype))


def _off_the_boundary(x: torch.Tensor, y: torch.Tensor, delta: float) -> torch.Tensor:
    """`x`, moved where |x - y| is exactly `delta` in its dtype (in float16 and bfloat16 a
    draw lands there now and then): the boundary is huber_boundary's to check, under every
    grading secret, not this check's under some."""
    for _ in range(8):
        on = (x - y).abs() == delta
        if not bool(on.any()):
            break
        x = torch.where(on, x + 0.25, x)
    return x


@checks.add("huber_loss works for every shape: a batch of 1, a single (C,) sample, a scalar, 3-D and empty tensors",
            hint="Compute both pieces for every element and pick one per element; then reduce over everything.")
def huber_shapes(t: CheckContext) -> None:
    for shape in SHAPES:
        x, y = t.randn(*shape, scale=2.0), t.randn(*shape, scale=2.0)
        for reduction in REDUCTIONS:
            t.expect_close("huber_loss", x, y, reduction=reduction, delta=0.8)


@checks.add("huber_loss is right where |input - target| equals delta exactly (the linear piece starts there)",
            hint="Every element must take one of the two pieces: the condition for one is the exact opposite "
                 "of the condition for the other.")
def huber_boundary(t: CheckContext) -> None:
    y = torch.tensor([0.0, 1.0, -2.0, 3.0, 0.25])
    for delta in (0.75, 2.0):
        x = y + torch.tensor([delta, -delta, delta, -delta, 0.1])  # exact in float32
        for reduction in ("none", "sum"):
            t.expect_close("huber_loss", x, y, reduction=reduction, delta=delta, grad_wrt=(0, 1))


@checks.add("gradients through huber_loss match autograd through the reference", devices=True,
            hint="Build the loss from tensor operations on the inputs (no .item(), .detach() or in-place "
                 "edits of the inputs), so autograd can follow both pieces.")
def huber_gradients(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        x, y = t.randn(5, 3, dtype=dtype, scale=2.0), t.randn(5, 3, dtype=dtype, scale=2.0)
        for delta in (0.5, 2.0):
            _expect_gradients(t, "huber_loss", x, y, delta=delta)


@checks.add("huber_loss raises ValueError for delta <= 0 and for an unknown reduction",
            hint="Validate the arguments before any arithmetic: delta must be positive, reduction one of three names.")
def huber_bad_arguments(t: CheckContext) -> None:
    why = "A delta of 0 or less leaves no quadratic piece and makes the linear one meaningless."
    for delta in (0.0, -1.0):
        expect_refusal(t, "huber_loss", t.randn(3), t.randn(3), delta=delta, errors=("ValueError",),
                       why=why, returned="ex02.delta-not-checked",
                       other_type=("RuntimeError", "ex02.delta-not-valueerror"))
    for reduction in ("average", "MEAN"):
        expect_refusal(t, "huber_loss", t.randn(3), t.randn(3), reduction=reduction, errors=("ValueError",),
                       returned="ex02.reduction-not-checked")

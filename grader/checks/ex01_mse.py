"""Checks for exercise 01: `mse_loss` from scratch."""
from __future__ import annotations

import torch

from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.checks.naming import expect_refusal, expect_shapes_named

checks = Checks("ex01_mse")


@checks.add("mse_loss gives 0.2875 on the worked example from the exercise",
            hint="Square each error before you average: (input - target) ** 2.")
def worked_example(t: CheckContext) -> None:
    t.expect_close("mse_loss", torch.tensor([2.5, 0.0, 2.1, 7.8]), torch.tensor([3.0, -0.5, 2.0, 7.0]))


@checks.add("mse_loss matches the reference for reduction='mean', 'sum' and 'none'", devices=True,
            hint="'mean' divides by the number of elements, 'sum' does not, 'none' keeps every element.")
def reductions(t: CheckContext) -> None:
    x, y = t.randn(5, 3), t.randn(5, 3)
    for reduction in ("mean", "sum", "none"):
        t.expect_close("mse_loss", x, y, reduction=reduction)


@checks.add("mse_loss works for every shape: a batch of 1, a single (C,) sample, a scalar, 3-D and empty tensors",
            hint="Average over every element of the tensor, not over one dimension.")
def shapes(t: CheckContext) -> None:
    # Largest first: a batch of one row cannot tell dividing by the rows from not dividing at all.
    for shape in [(2, 3, 4), (7,), (1, 4), (1,), (), (0,)]:
        for reduction in ("mean", "sum", "none"):
            t.expect_close("mse_loss", t.randn(*shape), t.randn(*shape), reduction=reduction)


@checks.add("mse_loss keeps the input's dtype (float16, bfloat16, float32 and float64) and precision", devices=True,
            hint="Use tensor operations on the inputs: Python floats, numpy or a .float() lose the dtype and the device.")
def dtypes(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        x, y = t.randn(6, 2, dtype=dtype, scale=1e3), t.randn(6, 2, dtype=dtype, scale=1e3)
        t.expect_close("mse_loss", x, y)
        t.expect_close("mse_loss", x, y, reduction="none")
    for dtype in (torch.float16, torch.bfloat16):  # the result stays in the low precision it was given
        x, y = t.randn(6, 2, dtype=dtype, scale=3.0), t.randn(6, 2, dtype=dtype, scale=3.0)
        for reduction in ("mean", "none"):
            t.expect_close("mse_loss", x, y, reduction=reduction, what=f"The {str(dtype).removeprefix('torch.')} result")


@checks.add("gradients through mse_loss match autograd through the reference", devices=True,
            hint="Build the loss from tensor operations on `input` so autograd can follow it; no .item() or .detach().")
def gradients(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        x, y = t.randn(4, 3, dtype=dtype), t.randn(4, 3, dtype=dtype)
        for reduction in ("mean", "sum"):
            t.expect_close("mse_loss", x, y, reduction=reduction, grad_wrt=(0, 1))
        t.expect_close("mse_loss", x, y, reduction="none", grad_wrt=(0,), grad_output=t.randn(4, 3, dtype=dtype))


@checks.add("mse_loss refuses an (N, 1) input against an (N,) target, naming both shapes",
            hint="Compare input.shape with target.shape before any arithmetic, and put both in the message.")
def shape_mismatch(t: CheckContext) -> None:
    why = "torch would broadcast (4, 1) against (4,) into a (4, 4) matrix of errors and train on nonsense."
    named = {"returned": "ex01.shape-not-checked", "incomplete": "ex01.shape-message-incomplete"}
    expect_shapes_named(t, "mse_loss", t.randn(4, 1), t.randn(4), shapes=((4, 1), (4,)), why=why, **named)
    expect_shapes_named(t, "mse_loss", t.randn(3), t.randn(2), shapes=((3,), (2,)), **named)


@checks.add("mse_loss raises ValueError for a reduction other than 'mean', 'sum' or 'none'",
            hint="Check `reduction` against the three allowed names and raise ValueError otherwise.")
def bad_reduction(t: CheckContext) -> None:
    for reduction in ("average", "MEAN", "max"):
        expect_refusal(t, "mse_loss", t.randn(3), t.randn(3), reduction=reduction, errors=("ValueError",),
                       returned="ex01.reduction-not-checked")

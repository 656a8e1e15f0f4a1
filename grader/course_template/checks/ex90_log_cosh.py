"""Checks for exercise 90, written the way every lossgrade check is.

`t` is the CheckContext: `t.randn(...)` makes seeded inputs (the same for every learner),
`t.expect_close(function, *args, **kwargs)` calls the learner's function in the sandbox and
the reference here, and compares device, dtype, shape, values (and gradients with
`grad_wrt`); a mismatch is diagnosed against misconceptions/ex90_log_cosh.py.
`t.expect_raises(...)` wants an error; `t.fail(message, mistake=...)` fails by hand.
"""
import torch

from lossgrade.checks.framework import CheckContext, Checks

checks = Checks("ex90_log_cosh")  # this file's exercise (its name without .py); rename it with the file


@checks.add("log_cosh_loss matches the reference for every reduction", devices=True,
            hint="'mean' averages every element, 'sum' adds them, 'none' keeps them.")
def reductions(t: CheckContext) -> None:
    x, y = t.randn(6, 3), t.randn(6, 3)
    for reduction in ("mean", "sum", "none"):
        t.expect_close("log_cosh_loss", x, y, reduction=reduction, grad_wrt=(0,),
                       grad_output=None if reduction != "none" else t.randn(6, 3))


@checks.add("log_cosh_loss stays finite and exact for errors of 100 and more",
            hint="cosh overflows in float32 past about 89: keep |d| out of the exponential.")
def large_errors(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        t.expect_close("log_cosh_loss", t.randn(5, dtype=dtype, scale=300.0), t.randn(5, dtype=dtype), reduction="none")


@checks.add("log_cosh_loss raises ValueError for an unknown reduction")
def bad_reduction(t: CheckContext) -> None:
    t.expect_raises("log_cosh_loss", t.randn(3), t.randn(3), reduction="average")

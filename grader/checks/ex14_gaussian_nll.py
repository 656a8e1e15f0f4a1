"""Checks for exercise 14: `gaussian_nll_loss`, the Gaussian negative log-likelihood.

Written with the public instructor API only (`lossgrade.checks.framework`,
`lossgrade.checks.naming`), as a course folder's checks are. Every value is compared with
the reference, and gradients with respect to input, target and var through autograd:
the gradient with respect to var below eps is the point of the exercise (torch clamps a
copy of var outside autograd, so it flows as if unclamped). No variance is exactly eps
where gradients are compared: there a clamp and torch agree by convention only.
"""
from __future__ import annotations

from typing import Any

import torch

from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.checks.naming import expect_refusal

checks = Checks("ex14_gaussian_nll")

GNLL = "gaussian_nll_loss"
REDUCTIONS = ("none", "mean", "sum")  # 'none' first: see _expect_all
FLOATS = (torch.float32, torch.float64)
LOW_PRECISION = (torch.float16, torch.bfloat16)  # results keep them: no upcast to float32
# Variances around eps = 1e-6 (0 included, none exactly eps) and their errors: the loss of
# each, and its gradient with respect to var, tell a clamp, an added eps and no eps apart.
# No squared error equals its (clamped) variance, for the eps values the checks use: there
# the gradient 0.5 * (1 / v - error**2 / v**2) cancels to rounding noise, which a correct
# formula written another way does not reproduce.
TINY_VARIANCES = (0.0, 1e-9, 1e-7, 5e-7, 3e-6, 1e-4, 0.3, 2.0)
TINY_ERRORS = (0.1, 0.0, 3e-3, 0.05, 0.02, 0.03, 0.5, 1.5)


def _variances(t: CheckContext, *shape: int, dtype: torch.dtype = torch.float32,
               low: float = 0.05, high: float = 3.0) -> torch.Tensor:
    return (low + (high - low) * t.rand(*shape, dtype=torch.float64)).to(dtype)


def _what(dtype: torch.dtype) -> str:
    return f"The {str(dtype).removeprefix('torch.')} result"


def _expect_all(t: CheckContext, *args: Any, grads: bool = True, **kwargs: Any) -> None:
    """Every reduction, 'none' first (a wrong value is diagnosed on every element, not on one
    mean that many mistakes come close to); with `grads`, the gradients for input, target and
    var (those that are tensors), under a random upstream gradient for 'none'."""
    wrt = tuple(i for i, a in enumerate(args) if isinstance(a, torch.Tensor) and a.is_floating_point()) if grads else ()
    shape = torch.broadcast_tensors(args[0], args[1])[0].shape  # (broadcast_shapes would import sympy)
    upstream = t.randn(*shape, dtype=args[0].dtype) if wrt else None
    t.expect_close(GNLL, *args, reduction="none", grad_wrt=wrt, grad_output=upstream, **kwargs)
    for reduction in ("mean", "sum"):
        t.expect_close(GNLL, *args, reduction=reduction, grad_wrt=wrt, **kwargs)


def _tiny(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Predictions, targets and variances around eps (error 0.1 with var 0, 1e-9, ...)."""
    target = torch.linspace(-1.0, 1.0, len(TINY_VARIANCES), dtype=dtype)
    return target + torch.tensor(TINY_ERRORS, dtype=dtype), target, torch.tensor(TINY_VARIANCES, dtype=dtype)


def _expect_zero_accepted(t: CheckContext, *args: Any, **kwargs: Any) -> None:
    """A variance of exactly 0 is accepted (and raised to eps), not refused."""
    reply = t.learner.call(GNLL, *args, device=t.device, **kwargs)
    if reply.kind == "raised" and reply.raised("ValueError") and not reply.violations and not reply.not_implemented:
        t.fail(f"Your code {reply.explain()}, but a variance of 0 is allowed: only negative ones are refused, "
               "and 0 is raised to eps like any variance below it.",
               call=t.describe(GNLL, args, kwargs), expected="a loss", mistake="ex14.zero-var-refused")


@checks.add("gaussian_nll_loss of input [2.0, 0.5, 1.0], target [1.0, 0.5, 3.0], var [0.25, 1.0, 4.0] is "
            "[1.3069, 0.0, 1.1931], mean 0.8333 (1.7523 with full=True), as in the exercise",
            hint="Each element costs 0.5 * (log(var) + (input - target) ** 2 / var); var is the variance itself.")
def worked_example(t: CheckContext) -> None:
    x, y, v = torch.tensor([2.0, 0.5, 1.0]), torch.tensor([1.0, 0.5, 3.0]), torch.tensor([0.25, 1.0, 4.0])
    t.expect_close(GNLL, x, y, v, reduction="none")
    t.expect_close(GNLL, x, y, v)
    t.expect_close(GNLL, x, y, v, full=True)


@checks.add("gaussian_nll_loss matches the reference with one variance per element, for reduction='mean', "
            "'sum' and 'none', with gradients for input, target and var, in float32 and float64, for every "
            "shape (a scalar, 1-D, 3-D, empty), and keeps float16 and bfloat16", devices=True,
            hint="Compute one loss per element, then reduce: 'mean' averages every element, 'sum' adds them, "
                 "'none' keeps the input's shape. Build it from tensor operations on the arguments only.")
def per_element(t: CheckContext) -> None:
    for dtype in FLOATS:
        _expect_all(t, t.randn(5, 4, dtype=dtype, scale=2.0), t.randn(5, 4, dtype=dtype), _variances(t, 5, 4, dtype=dtype))
    for shape in [(2, 3, 4), (7,), (1, 3), ()]:
        _expect_all(t, t.randn(*shape), t.randn(*shape), _variances(t, *shape))
    for reduction in REDUCTIONS:
        t.expect_close(GNLL, t.randn(0), t.randn(0), _variances(t, 0), reduction=reduction)
    for dtype in LOW_PRECISION:
        x, y, v = t.randn(5, 3, dtype=dtype), t.randn(5, 3, dtype=dtype), _variances(t, 5, 3, dtype=dtype, low=0.2)
        for reduction in ("none", "mean"):
            t.expect_close(GNLL, x, y, v, reduction=reduction, what=_what(dtype))


@checks.add("gaussian_nll_loss is negative where the prediction is right and confident (error 0, var 0.01 "
            "costs -2.3026), and stays negative through every reduction",
            hint="Nothing keeps a negative log-likelihood above 0: a density can be larger than 1. Do not clamp, "
                 "abs or relu the loss.")
def negative_values(t: CheckContext) -> None:
    x = torch.tensor([1.5, -0.3, 0.0])
    t.expect_close(GNLL, x, x.clone(), torch.tensor([0.01, 0.01, 0.01]), reduction="none")
    for dtype in FLOATS:
        target = t.randn(4, 3, dtype=dtype)
        x = target + t.randn(4, 3, dtype=dtype, scale=0.05)
        _expect_all(t, x, target, _variances(t, 4, 3, dtype=dtype, low=0.01, high=0.3))


@checks.add("gaussian_nll_loss shares a variance as torch does: var of shape (N,) or (N, 1) for an (N, D) "
            "input is one variance per row, (1, D) one per column, (N, T) or (N, T, 1) for (N, T, D) one per "
            "position, and a 1-D input takes var of shape (1,) or a 0-d tensor; gradients for var too", devices=True,
            hint="A var with one dimension fewer than the input is one variance per row: unsqueeze(-1) it, since "
                 "broadcasting lines up the LAST dimensions, so an (N,) var would meet the D columns.")
def shared_variance(t: CheckContext) -> None:
    # Square first: (N,) against (N, N) broadcasts without an error, along the wrong dimension.
    _expect_all(t, t.randn(4, 4, scale=2.0), t.randn(4, 4), _variances(t, 4))
    for dtype in FLOATS:
        for shape, var_shape in [((5, 3), (5,)), ((5, 3), (5, 1)), ((5, 3), (1, 3)), ((2, 3, 4), (2, 3)),
                                 ((2, 3, 4), (2, 3, 1)), ((2, 3, 4), (2, 1, 4)), ((6,), (1,)), ((6,), ())]:
            _expect_all(t, t.randn(*shape, dtype=dtype, scale=2.0), t.randn(*shape, dtype=dtype),
                        _variances(t, *var_shape, dtype=dtype))


@checks.add("gaussian_nll_loss takes a Python float as var, one variance for every element (0.0 included)",
            hint="A float var is the same as a tensor full of it: `var * torch.ones_like(input)`; it still must "
                 "not be negative.")
def float_variance(t: CheckContext) -> None:
    for var in (0.5, 2.0, 0.0):
        x, y = t.randn(4, 3, scale=2.0), t.randn(4, 3)
        if var == 0.0:
            _expect_zero_accepted(t, x, y, var, reduction="none")
        _expect_all(t, x, y, var)


@checks.add("gaussian_nll_loss broadcasts the target against the input, as torch does (a target of shape "
            "(N, 1) or (D,) for an (N, D) input, a 0-d target for a 1-D input, and an (N, D) target for an "
            "(N, 1) input, whose mean is over all N * D losses)",
            hint="Only var's shape is checked; (input - target) broadcasts like any tensor arithmetic, and 'mean' "
                 "averages every element of the broadcast loss.")
def target_broadcasts(t: CheckContext) -> None:
    for shape, target_shape in [((5, 3), (5, 1)), ((5, 3), (3,)), ((4,), ()), ((5, 1), (5, 3))]:
        _expect_all(t, t.randn(*shape, scale=2.0), t.randn(*target_shape), _variances(t, *shape))


@checks.add("gaussian_nll_loss raises every variance below eps to eps in value (var 0 with error 0.1 costs "
            "4993.09), for the default eps and another eps, and accepts a variance of exactly 0", devices=True,
            hint="Raise var to at least eps before the log and the division; do not add eps to it, and use the "
                 "eps argument.")
def eps_value(t: CheckContext) -> None:
    for dtype in FLOATS:
        x, y, v = _tiny(dtype)
        _expect_zero_accepted(t, x, y, v, reduction="none")
        for reduction in REDUCTIONS:
            t.expect_close(GNLL, x, y, v, reduction=reduction)
        for eps in (2e-2, 3e-4):
            t.expect_close(GNLL, x, y, v, eps=eps, reduction="none")
            t.expect_close(GNLL, x, y, v, eps=eps, reduction="sum")


@checks.add("the gradient of gaussian_nll_loss with respect to var flows as if var were not clamped: about "
            "-5e9 for var 1e-8 and error 0.1, never 0", devices=True,
            hint="torch.clamp passes no gradient to the values it raised. Clamp a copy outside autograd: "
                 "`var = var.clone()` and then `with torch.no_grad(): var.clamp_(min=eps)`.")
def eps_gradient(t: CheckContext) -> None:
    x, y = torch.tensor([0.1, 0.3]), torch.tensor([0.0, 0.0])
    t.expect_close(GNLL, x, y, torch.tensor([1e-8, 2.0]), reduction="sum", grad_wrt=(0, 1, 2))
    for dtype in FLOATS:
        _expect_zero_accepted(t, *_tiny(dtype), reduction="none")
        _expect_all(t, *_tiny(dtype))
        _expect_all(t, *_tiny(dtype), eps=2e-2)


@checks.add("gaussian_nll_loss with full=True adds 0.5 * log(2 * pi) = 0.9189 to every element, for every "
            "reduction and a shared variance, with the same gradients", devices=True,
            hint="full=True adds the constant 0.5 * math.log(2 * math.pi) to each element before the reduction.")
def full_constant(t: CheckContext) -> None:
    for dtype in FLOATS:
        _expect_all(t, t.randn(5, 3, dtype=dtype, scale=2.0), t.randn(5, 3, dtype=dtype),
                    _variances(t, 5, 3, dtype=dtype), full=True)
    _expect_all(t, t.randn(5, 3), t.randn(5, 3), _variances(t, 5, 1), full=True)
    _expect_all(t, t.randn(5, 3), t.randn(5, 3), 0.7, full=True)


@checks.add("gaussian_nll_loss raises ValueError for a negative variance (a tensor with one negative entry, "
            "or a negative float)",
            hint="Check `(var < 0).any()` (or `var < 0` for a float) first, before the clamp would hide it.")
def negative_variance(t: CheckContext) -> None:
    why = "A variance is never negative; log() of one is nan, and a clamp would silently hide the bug."
    x, y = t.randn(3), t.randn(3)
    expect_refusal(t, GNLL, x, y, torch.tensor([1.0, -0.5, 2.0]), errors=("ValueError",), why=why,
                   returned="ex14.negative-var-not-refused")
    expect_refusal(t, GNLL, x, y, torch.tensor([0.0, -1e-9, 0.0]), errors=("ValueError",), why=why,
                   returned="ex14.negative-var-not-refused")
    expect_refusal(t, GNLL, x, y, -1.0, errors=("ValueError",), why=why, returned="ex14.negative-var-not-refused")


@checks.add("gaussian_nll_loss raises ValueError for a var whose shape does not fit the input, as torch does: "
            "(D,), (1, 1), (N, D - 1) or a 0-d tensor for an (N, D) input, (T, D) for (N, T, D)",
            hint="Accept var.shape == input.shape, var.shape == input.shape[:-1], or the same number of "
                 "dimensions where exactly one differs and is 1 in var; raise ValueError for anything else.")
def var_shape(t: CheckContext) -> None:
    why = "torch refuses this var even where it could broadcast it: a var of another shape is a bug upstream."
    x, y = t.randn(4, 3), t.randn(4, 3)
    for var_shape in [(3,), (1, 1), (4, 2), ()]:
        expect_refusal(t, GNLL, x, y, _variances(t, *var_shape), errors=("ValueError",), why=why,
                       returned="ex14.var-shape-not-checked",
                       other_type=("RuntimeError", "ex14.var-shape-not-checked"))
    expect_refusal(t, GNLL, t.randn(2, 3, 4), t.randn(2, 3, 4), _variances(t, 3, 4), errors=("ValueError",), why=why,
                   returned="ex14.var-shape-not-checked", other_type=("RuntimeError", "ex14.var-shape-not-checked"))


@checks.add("gaussian_nll_loss raises ValueError for an unknown reduction",
            hint="Compare reduction with 'mean', 'sum' and 'none' and raise ValueError otherwise.")
def bad_reduction(t: CheckContext) -> None:
    expect_refusal(t, GNLL, t.randn(3), t.randn(3), _variances(t, 3), reduction="average", errors=("ValueError",),
                   returned="ex14.reduction-not-checked")

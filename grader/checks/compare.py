"""Comparing a learner's tensors with the reference's, and describing both in words.

Tolerances follow torch's own tests: tight in float64, ~1e-5 relative in float32, and
1e-2 absolute for the half-precision types.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import torch

from lossgrade.core.numerics import TOLERANCES, close, tolerance, within  # noqa: F401 - compare's own names, shared

SHOWN_ELEMENTS = 6


def mismatch(got: torch.Tensor, expected: torch.Tensor) -> str | None:
    """Why `got` is not `expected` (shape, dtype, non-finite values, values), or None."""
    if got.shape != expected.shape:
        return f"the shape is {shape(got)} but should be {shape(expected)}"
    if got.dtype != expected.dtype:
        return f"the dtype is {dtype_name(got.dtype)} but should be {dtype_name(expected.dtype)}"
    # Most results are right: an exact match costs a microsecond, and a close one rules out
    # a nan or inf where the answer is finite (allclose never matches those to a number).
    if torch.equal(got, expected) or close(got, expected):
        return None
    bad = ~torch.isfinite(got) & torch.isfinite(expected)
    if bool(bad.any()):
        return f"{int(bad.sum())} value(s) are nan or inf where the right answer is finite"
    worst = (got.double() - expected.double()).abs().nan_to_num(nan=float("inf")).max().item()
    return f"the values differ (largest difference {worst:.3g})"


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def shape(tensor: torch.Tensor) -> str:
    return "(" + ", ".join(str(s) for s in tensor.shape) + ("," if tensor.dim() == 1 else "") + ")"


def show(value: Any) -> str:
    """A short, readable rendering of an argument or a result."""
    if isinstance(value, torch.Tensor):
        head = f"{dtype_name(value.dtype)}{list(value.shape)}"
        if value.numel() == 0:
            return head + " (empty)"
        if value.dim() == 0:
            return f"tensor({_number(value.item(), value.dtype)}, dtype={dtype_name(value.dtype)})"
        flat = value.detach().flatten()
        numbers = ", ".join(_number(v, value.dtype) for v in flat[:SHOWN_ELEMENTS].tolist())
        more = ", ..." if flat.numel() > SHOWN_ELEMENTS else ""
        return f"{head} [{numbers}{more}]"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return _number(value)
    return repr(value)


def _number(value: float | int | bool, dtype: torch.dtype | None = None) -> str:
    """6 significant digits; more where 6 digits would make a value look exact that is not,
    by more than its dtype's rounding (a float64 1 - 1e-10 is 0.9999999999, not 1)."""
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    short = f"{value:.6g}"
    if value != value or abs(value) == float("inf"):
        return short
    digits = short.lstrip("-").split("e")[0].replace(".", "").strip("0")
    eps = torch.finfo(dtype).eps if dtype is not None and dtype.is_floating_point else 2.0**-52
    if len(digits) >= 6 or abs(value - float(short)) <= 4 * eps * abs(value):
        return short
    for precision in range(7, 18):
        longer = f"{value:.{precision}g}"
        if _same_in(float(longer), value, dtype):
            return longer
    return repr(value)


def _same_in(candidate: float, value: float, dtype: torch.dtype | None) -> bool:
    """Whether `candidate` rounds to `value` in `dtype` (float64 when None)."""
    if dtype is None or dtype == torch.float64:
        return candidate == value
    return bool(torch.tensor(candidate, dtype=dtype).item() == value)


def describe_call(function: Callable[..., Any], name: str, args: tuple[Any, ...], kwargs: dict[str, Any], device: str) -> str:
    """`cross_entropy(logits=float32[4, 10] [...], target=int64[4] [...], reduction='sum')`,
    with the parameter names of the reference's signature."""
    try:
        signature = inspect.signature(function)
        named = not any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values())
        arguments = signature.bind(*args, **kwargs).arguments if named else None
    except (TypeError, ValueError):
        arguments = None
    if arguments is None:  # no names to give, e.g. `CrossEntropyFunction.apply(*args)`
        parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    else:
        parts = [f"{key}={show(value)}" for key, value in arguments.items()]
    where = f"  (tensors on {device})" if device != "cpu" else ""
    return f"{name}({', '.join(parts)}){where}"

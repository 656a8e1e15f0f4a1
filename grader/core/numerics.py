"""When two tensors count as equal: the tolerances of each dtype.

Shared by the checks (comparing a learner's result with the reference) and the
misconceptions (matching it against a catalogued mistake), so that neither imports the other
for it.
"""
from __future__ import annotations

import torch

TOLERANCES = {
    torch.float64: (1e-7, 1e-9),
    torch.float32: (1.3e-5, 1e-5),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (2e-2, 2e-2),
}


def tolerance(dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol) for comparing values of this dtype."""
    return TOLERANCES.get(dtype, (1.3e-5, 1e-5))


def close(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """Same shape and values within the expected dtype's tolerance (NaN equals NaN)."""
    rtol, atol = tolerance(expected.dtype)
    return within(got, expected, rtol=rtol, atol=atol, equal_nan=True)


def within(got: torch.Tensor, expected: torch.Tensor, *, rtol: float, atol: float, equal_nan: bool = False) -> bool:
    """torch.allclose without its broadcasting: tensors of different shapes are never
    close (allclose would find a (0, 1, 1) tensor close to any other, and a (1,) one close
    to every element of a row). Every comparison of a learner's tensor goes through here."""
    if type(got) is not torch.Tensor or type(expected) is not torch.Tensor or got.shape != expected.shape:
        return False
    return bool(torch.allclose(got.to(torch.float64), expected.to(torch.float64), rtol=rtol, atol=atol,
                               equal_nan=equal_nan))

"""ex04's mistakes, one module per learner function: `binary_cross_entropy` and
`binary_cross_entropy_with_logits`; `misconceptions/ex04_bce.py`, the catalogue that the
course finds by path, lists them. Here, what both use: torch's log clamped at -100, the
signature of an epsilon that caps the loss, and a 'mean' over rows.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from lossgrade.misconceptions import Evidence


def _clamped_log(values: torch.Tensor) -> torch.Tensor:
    return torch.clamp(torch.log(values), min=-100)


def _capped_below(evidence: Evidence, cap: float) -> bool:
    """Right wherever the right loss is moderate, and finite but far below it wherever the right
    loss is large: the signature of an epsilon (or clamped probability) whose log caps each term
    at -log(eps), well under torch's 100 (or under the exact loss, for logits)."""
    got, expected = evidence.got.double(), evidence.expected
    if expected is None or got.shape != expected.shape or got.numel() == 0:
        return False
    expected = expected.double()
    if not bool(torch.isfinite(got).all()) or not bool(torch.isfinite(expected).all()):
        return False
    large = expected > 20
    moderate = expected <= 10
    if not bool(large.any()):
        return False
    capped = bool((got[large] < 0.9 * expected[large]).all()) and bool((got[large] < cap).all())
    return capped and bool(torch.isclose(got[moderate], expected[moderate], rtol=1e-3, atol=1e-4).all())


def _per_row(right: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """`right` whose 'mean' divides the total by the number of rows (len(input)), not of elements."""
    def wrong(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", *args: Any, **kwargs: Any) -> torch.Tensor:
        if reduction != "mean" or input.dim() < 2:
            return right(input, target, reduction, *args, **kwargs)
        return right(input, target, "sum", *args, **kwargs) / input.shape[0]
    return wrong

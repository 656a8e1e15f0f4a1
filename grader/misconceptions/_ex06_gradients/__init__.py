"""ex06's mistakes, one module per learner function: `mse_grad`, `cross_entropy_grad` and
`bce_with_logits_grad`; `misconceptions/ex06_gradients.py`, the catalogue that the course
finds by path, lists them. Here, what the two elementwise gradients' modules use: a wrong
formula wrapped with the shape check it should have.
"""
from __future__ import annotations

from typing import Callable

import torch

Tensor = torch.Tensor


def _elementwise(formula: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
    """A wrong mse_grad or bce_with_logits_grad that refuses different shapes, as it should."""

    def wrong(input: Tensor, target: Tensor) -> Tensor:
        if input.shape != target.shape:
            raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
        return formula(input, target)

    return wrong

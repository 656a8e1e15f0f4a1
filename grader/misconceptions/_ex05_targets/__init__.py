"""ex05's mistakes, by learner function: `one_hot`, and for `cross_entropy_full` two
modules, `cross_entropy_full` (class indices, and what any target shares) and
`probability_targets`; `misconceptions/ex05_targets.py`, the catalogue that the course finds
by path, lists them. Here, what the two cross-entropy modules use: the class dimension, and
whether the target holds probabilities.
"""
from __future__ import annotations

import torch

Tensor = torch.Tensor


def _class_dim(input: Tensor) -> int:
    return 0 if input.dim() == 1 else 1


def _probabilities(input: Tensor, target: Tensor) -> bool:
    return target.shape == input.shape

"""Mistakes learners make writing binary cross-entropy, on probabilities and on logits.

ex04's catalogue, the file the course finds by path. The mistakes are written one module per
learner function, in `_ex04_bce/`: `binary_cross_entropy` (on probabilities) and
`binary_cross_entropy_with_logits`.
"""
from __future__ import annotations

from lossgrade.misconceptions._ex04_bce import binary_cross_entropy, binary_cross_entropy_with_logits

MISCONCEPTIONS = [*binary_cross_entropy.MISCONCEPTIONS, *binary_cross_entropy_with_logits.MISCONCEPTIONS]

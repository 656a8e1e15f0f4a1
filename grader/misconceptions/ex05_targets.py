"""Mistakes learners make with one-hot labels and the full cross-entropy: ignored targets,
class weights, label smoothing and probability targets.

ex05's catalogue, the file the course finds by path. The mistakes are written by learner
function, in `_ex05_targets/`: `one_hot.py`, and for `cross_entropy_full` two modules,
`cross_entropy_full.py` (class indices, and what any target shares) and
`probability_targets.py`.
"""
from __future__ import annotations

from lossgrade.misconceptions._ex05_targets import cross_entropy_full, one_hot, probability_targets

MISCONCEPTIONS = [*one_hot.MISCONCEPTIONS, *cross_entropy_full.MISCONCEPTIONS, *probability_targets.MISCONCEPTIONS]

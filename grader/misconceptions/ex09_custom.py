"""Mistakes learners make writing focal loss and a cross-entropy `autograd.Function`.

ex09's catalogue, the file the course finds by path. The mistakes are written one module per
learner function, in `_ex09_custom/`: `focal_loss` (each a wrong `focal_loss`) and
`cross_entropy_function` (each a wrong `CrossEntropyFunction` class).
"""
from __future__ import annotations

from lossgrade.misconceptions._ex09_custom import cross_entropy_function, focal_loss

MISCONCEPTIONS = [*focal_loss.MISCONCEPTIONS, *cross_entropy_function.MISCONCEPTIONS]

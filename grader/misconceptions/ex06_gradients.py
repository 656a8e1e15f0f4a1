"""Mistakes learners make deriving the gradients of MSE, cross-entropy and BCE by hand.

Each wrong implementation is the right formula with one slip (a missing 1/n, a missing
factor, a flipped sign, the wrong softmax), computed stably unless the slip is the
instability itself.

ex06's catalogue, the file the course finds by path. The mistakes are written one module per
learner function, in `_ex06_gradients/`: `mse_grad`, `cross_entropy_grad` and
`bce_with_logits_grad`.
"""
from __future__ import annotations

from lossgrade.misconceptions._ex06_gradients import bce_with_logits_grad, cross_entropy_grad, mse_grad

MISCONCEPTIONS = [*mse_grad.MISCONCEPTIONS, *cross_entropy_grad.MISCONCEPTIONS, *bce_with_logits_grad.MISCONCEPTIONS]

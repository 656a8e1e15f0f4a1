# redteam: exercise=ex01 score=0 mentions=nan or inf
"""NaN and infinity, which compare false to everything and can slip through a check written
as `not (got != expected).any()`, or through a tolerance that an infinity makes infinite;
it never raises, so the checks that want a ValueError get a NaN instead."""
import torch

calls = 0


def mse_loss(input, target, reduction="mean"):
    global calls
    calls += 1
    shape = input.shape if reduction == "none" else ()
    value = (float("nan"), float("inf"), float("-inf"))[calls % 3]
    return torch.full(shape, value, dtype=input.dtype, device=input.device)

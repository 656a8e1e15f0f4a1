# redteam: exercise=ex01 score=0 mentions=could not be imported: did not return within
"""Hangs while being imported, so that not even loading the module finishes."""
import time

time.sleep(3600)


def mse_loss(input, target, reduction="mean"):
    return input.sum() * 0

# redteam: exercise=ex01 score=0 mentions=raised KeyboardInterrupt
"""Raises SystemExit(0) and KeyboardInterrupt, the two BaseExceptions that `except
Exception` lets through, alternately."""
calls = 0


def mse_loss(input, target, reduction="mean"):
    global calls
    calls += 1
    if calls % 2:
        raise SystemExit(0)
    raise KeyboardInterrupt

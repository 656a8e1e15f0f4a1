# redteam: exercise=ex01 score=0 mentions=could not be imported: KeyboardInterrupt
"""Raises KeyboardInterrupt while being imported, as a Ctrl-C would."""
raise KeyboardInterrupt


def mse_loss(input, target, reduction="mean"):
    return input.sum() * 0

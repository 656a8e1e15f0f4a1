# redteam: exercise=ex01 score=0 mentions=killed by signal
"""Dies by a signal it sends itself: SIGKILL, then SIGTERM with the handler reset."""
import os
import signal

calls = 0


def mse_loss(input, target, reduction="mean"):
    global calls
    calls += 1
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGKILL if calls % 2 else signal.SIGTERM)
    return input.sum()

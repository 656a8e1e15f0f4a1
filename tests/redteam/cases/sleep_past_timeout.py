# redteam: exercise=ex01 score=0 mentions=did not return within
"""Sleeps far past any timeout, ignoring the signals a polite grader would send first."""
import signal
import time

for number in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP):
    signal.signal(number, signal.SIG_IGN)


def mse_loss(input, target, reduction="mean"):
    time.sleep(3600)
    return input.sum()

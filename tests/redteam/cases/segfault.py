# redteam: exercise=ex01 score=0 mentions=SIGSEGV
"""Crashes the process for real: a segmentation fault, a C stack overflow, an abort."""
import faulthandler
import os
import sys

calls = 0


def mse_loss(input, target, reduction="mean"):
    global calls
    calls += 1
    faulthandler.disable()
    if calls % 3 == 0:
        os.abort()
    if calls % 3 == 1:
        faulthandler._sigsegv()

    def down(n):
        return down(n + 1) + 1

    sys.setrecursionlimit(1 << 30)
    return down(0)

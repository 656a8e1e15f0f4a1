# redteam: exercise=ex01 score=0
"""Asks for 30 GiB at once and writes to all of it, in torch, in Python and through mmap:
without a limit on the address space, the machine would start swapping or kill a process
(perhaps the grader) for memory."""
import mmap

import torch

GIB = 1 << 30


def hog():
    hoard = []
    for attempt in (lambda: torch.empty(30 * GIB, dtype=torch.uint8).fill_(1), lambda: bytearray(30 * GIB),
                    lambda: mmap.mmap(-1, 30 * GIB)):
        try:
            hoard.append(attempt())
        except (MemoryError, RuntimeError, OSError):
            pass
    if hoard:
        raise SystemExit("30 GiB granted: no memory limit")


def mse_loss(input, target, reduction="mean"):
    hog()
    return (input - target).sum() * 0

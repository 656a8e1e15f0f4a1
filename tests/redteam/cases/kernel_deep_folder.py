# redteam: exercise=ex01 score=0 timeout=10
"""Leaves a 3000-deep folder (deeper than Python's recursion, longer than PATH_MAX) with a
file at every level, made unreadable at the bottom, and 5000 files beside it, and tries to
fill /tmp: clean-up must remove all of it, and no later worker may get slower."""
import os

DONE = []


def litter():
    if DONE:
        return
    DONE.append(1)
    top = os.open(".", os.O_RDONLY)
    current = top
    for _ in range(3000):
        try:
            os.mkdir("d", dir_fd=current)
            below = os.open("d", os.O_RDONLY, dir_fd=current)
            os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=below))
        except OSError:
            break
        if current != top:
            os.close(current)
        current = below
    try:
        os.chmod(".", 0, dir_fd=current) if False else os.fchmod(current, 0)
    except OSError:
        pass
    os.makedirs("many", exist_ok=True)
    for i in range(5000):
        open(f"many/{i}", "w").close()
    for i in range(100):
        try:
            open(f"/tmp/kernel-litter-{i}", "w").close()
        except OSError:
            break


def mse_loss(input, target, reduction="mean"):
    litter()
    return (input - target).sum() * 0

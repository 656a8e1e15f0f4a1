# redteam: exercise=ex01 score=0
"""Leaves a daemon behind: a double fork into a new session, ignoring SIGTERM and SIGHUP,
that lives on after the worker and keeps trying to tamper with results files."""
import glob
import os
import signal
import time


def daemon():
    if os.fork() != 0:
        return
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while True:
        for path in glob.glob("/tmp/lossgrade-redteam-canary-*/*"):
            try:
                open(path, "w").write("tampered by a leftover process")  # noqa: SIM115 - hostile on purpose (a learner's attack)
            except OSError:
                pass
        time.sleep(0.05)


def mse_loss(input, target, reduction="mean"):
    daemon()
    return (input - target).sum() * 0

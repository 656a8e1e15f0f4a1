# redteam: exercise=ex01 score=0
"""Leaves a daemon that must die with the grader whatever stops it: a double fork into a
session of its own, ignoring every signal it can, holding a marker file open (so a test
can find it), and waiting; then the call itself waits, so the grader can be killed meanwhile."""
import os
import signal
import time


def daemon():
    if os.fork() != 0:
        return
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_IGN)
    marker = open("kernel-daemon-marker", "w")  # noqa: SIM115 - hostile on purpose (a learner's attack)
    while True:
        marker.write(".")
        marker.flush()
        time.sleep(0.2)


def mse_loss(input, target, reduction="mean"):
    daemon()
    time.sleep(30)
    return (input - target).sum() * 0

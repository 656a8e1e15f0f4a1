# redteam: exercise=ex03 score=0 mentions=an interval timer (signal.setitimer)
"""An interval timer whose SIGALRM handler would fire while the worker's own code runs,
outside the guards, and call the forbidden cross-entropy there. Its first expiry is 50 ms
away, after the import's guarded stretch has ended (one of 0.5 ms fired inside it now and
then, on a loaded machine: a forbidden call, caught there, named before the timer)."""
import signal

import torch
import torch.nn.functional as F

state = {"unguarded": 0}


def handler(signum, frame):
    try:
        F.cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]))
        state["unguarded"] += 1
    except Exception:
        pass


signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.05, 0.0005)


def log_softmax(logits, dim=-1):
    return torch.zeros_like(logits)


def cross_entropy(logits, target, reduction="mean", **kwargs):
    if state["unguarded"]:
        raise RuntimeError(f"the forbidden call worked {state['unguarded']} time(s) outside the guards")
    return torch.zeros(())

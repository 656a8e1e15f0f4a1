# redteam: exercise=ex03 score=0 mentions=which this exercise asks you to write yourself
"""Hangs an object on the tensors it is given, whose __del__ runs when the worker lets go of
them after the call, outside the guards, and calls the forbidden cross-entropy there; and
a reference cycle whose __del__ the garbage collector would run at any later moment."""
import torch
import torch.nn.functional as F

state = {"unguarded": 0}


class Spy:
    def __init__(self, logits, target):
        self.logits, self.target = logits.detach(), target
        self.cycle = self

    def __del__(self):
        try:
            F.cross_entropy(self.logits, self.target)
            state["unguarded"] += 1
        except Exception:
            pass


def log_softmax(logits, dim=-1):
    return torch.zeros_like(logits)


def cross_entropy(logits, target, reduction="mean", **kwargs):
    if state["unguarded"]:
        raise RuntimeError(f"the forbidden call worked {state['unguarded']} time(s) outside the guards")
    target.spy = Spy(logits, target)
    Spy(logits, target)  # garbage in a cycle
    return torch.zeros(())

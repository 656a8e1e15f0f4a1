# redteam: exercise=ex03 score=0 timeout=5 mentions=torch.nn.functional.log_softmax
"""Exceptions whose description is code: a __str__ that calls the forbidden log-softmax
(the worker described the exception after the guarded stretch had ended) and then raises,
a __traceback__ property that calls it too, a message of 20 MB, and a recursion as deep
as Python allows."""
import torch
import torch.nn.functional as F

calls = []


def attempt():
    F.log_softmax(torch.randn(2, 3), dim=1)
    return "UNGUARDED"


class Sneaky(Exception):
    def __str__(self):
        attempt()
        raise KeyError("no message")

    @property
    def __traceback__(self):
        attempt()
        return None

    @__traceback__.setter
    def __traceback__(self, value):
        pass


def deep(n):
    return deep(n + 1) + 1


def log_softmax(logits, dim=-1):
    raise Sneaky()


def cross_entropy(logits, target, reduction="mean", **kwargs):
    calls.append(1)
    if len(calls) % 3 == 1:
        raise Sneaky()
    if len(calls) % 3 == 2:
        raise ValueError("x" * 20_000_000)
    return deep(0)

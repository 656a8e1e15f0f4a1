# redteam: exercise=ex03 score=0 timeout=3 mentions=uses `import importlib`
"""The from-scratch rule, through the back doors: aten operators via torch.ops and torch._C,
private aliases, the original function dug out of the grader's wrapper, and a reloaded
torch.nn.functional."""
import importlib

import torch
import torch.nn.functional as F


def original(function):
    for cell in getattr(function, "__closure__", None) or ():
        if callable(cell.cell_contents) and getattr(cell.cell_contents, "__name__", "") == function.__name__:
            return cell.cell_contents
    return function


def first_that_works(*attempts):
    for attempt in attempts:
        try:
            return attempt()
        except Exception:  # noqa: BLE001, S112 - hostile on purpose (a learner's attack)
            continue
    raise RuntimeError("nothing worked")


def log_softmax(logits, dim=-1):
    return first_that_works(lambda: torch.ops.aten._log_softmax(logits, dim, False),
                            lambda: torch._log_softmax(logits, dim, False),
                            lambda: torch._C._VariableFunctions.log_softmax(logits, dim),
                            lambda: original(F.log_softmax)(logits, dim),
                            lambda: importlib.reload(F).log_softmax(logits, dim))


def cross_entropy(logits, target, reduction="mean"):
    index = {"none": 0, "mean": 1, "sum": 2}[reduction]
    return first_that_works(lambda: torch._C._nn.cross_entropy_loss(logits, target, None, index, -100, 0.0),
                            lambda: torch._C._nn.nll_loss(log_softmax(logits), target, None, index, -100),
                            lambda: original(F.cross_entropy)(logits, target, reduction=reduction),
                            lambda: importlib.reload(F).cross_entropy(logits, target, reduction=reduction))

# redteam: exercise=ex01 score=0 timeout=3 mentions=uses `import gc`
"""Takes the grader's guards apart before calling the forbidden F.mse_loss: restores the
original function from under the wrapper, reloads torch.nn.functional, empties the record
of violations it can find, and calls the aten operator with the Python dispatch turned off."""
import gc
import importlib

import torch
import torch.nn.functional as F


def unwrap():
    for cell in getattr(F.mse_loss, "__closure__", None) or ():
        if callable(cell.cell_contents) and getattr(cell.cell_contents, "__name__", "") == "mse_loss":
            F.mse_loss = cell.cell_contents
            return


def forget():
    for obj in gc.get_objects():
        if type(obj).__name__ == "Guards":
            obj.violations.clear()
            obj.active = frozenset()


def mse_loss(input, target, reduction="mean"):
    unwrap()
    for attempt in (lambda: F.mse_loss(input, target, reduction=reduction),
                    lambda: importlib.reload(F).mse_loss(input, target, reduction=reduction),
                    lambda: torch.ops.aten.mse_loss(input, target, {"none": 0, "mean": 1, "sum": 2}[reduction])):
        try:
            out = attempt()
            break
        except Exception:  # noqa: BLE001, S112 - hostile on purpose (a learner's attack)
            continue
    else:
        out = (input - target).sum() * 0
    forget()
    return out

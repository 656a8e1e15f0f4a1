# redteam: exercise=ex03 score=0 timeout=3 mentions=uses `import gc`
"""Switches the from-scratch rule off in three statements, then calls the forbidden
F.cross_entropy and F.log_softmax: puts the original functions back from under the grader's
wrappers, destroys the torch.library that refuses their operators, and clears the record of
what was tried."""
import gc

import torch.nn.functional as F

for _obj in gc.get_objects():
    if type(_obj).__name__ == "Guards":
        _guards = _obj
for _name in ("cross_entropy", "log_softmax"):
    for _cell in getattr(F, _name).__closure__ or ():
        if callable(_cell.cell_contents) and getattr(_cell.cell_contents, "__name__", "") == _name:
            setattr(F, _name, _cell.cell_contents)
_guards._library._destroy()
_guards.violations.clear()


def log_softmax(logits, dim=-1):
    return F.log_softmax(logits, dim=dim)


def cross_entropy(logits, target, reduction="mean"):
    return F.cross_entropy(logits, target, reduction=reduction)

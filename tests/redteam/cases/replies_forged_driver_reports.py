# redteam: exercise=ex07 score=0 timeout=3 mentions=uses `sys.modules`
"""Does no training at all, and rewrites the worker's drivers to report a run with no steps,
and an evaluation whose model has no parameters and whose forward pass never ran: comparisons
zipped over the reported steps, or looped over the reported parameters, compare nothing."""
import sys

_DRIVERS = sys.modules["_worker"].DRIVERS


def _no_steps(module, **params):
    return {"steps": [], "error": None}


def _nothing_seen(module, **params):
    empty = {"state": {}, "grads": {}, "modes": []}
    return {"returned": {"type": "float", "is_float": True, "value": 0.0, "requires_grad": False}, "error": None,
            "before": empty, "after": empty, "forward_modes": [], "loss_calls": [], "grad_enabled_after": True}


_DRIVERS["train_steps"] = _no_steps
_DRIVERS["evaluate"] = _nothing_seen


def train_step(model, loss_fn, optimizer, x, y):
    return 0.0


def evaluate(model, loss_fn, x, y):
    return 0.0

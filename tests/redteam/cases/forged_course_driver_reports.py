# redteam: exercise=ex15 score=0 timeout=3 mentions=uses `sys.modules`
"""Does no training, and rewrites the course's drivers of ex15 (registered in the worker as
"ex15_train_at_scale/<name>") to report runs that fit the checks' schemas exactly: every
parameter by its name, shape and dtype (the initial ones, sent by the grader), one optimizer
step per call, a Python float returned, a scale that halves and grows as it should. Only the
values are wrong, and the grader computes the right ones itself."""
import sys

_DRIVERS = sys.modules["_worker"].DRIVERS


def _calls(state_dict, count, scaler_spec=None):
    scale = scaler_spec["init_scale"] if scaler_spec else None
    calls = []
    for number in range(count):
        call = {"returned": {"type": "float", "is_float": True, "value": 1.0, "requires_grad": False},
                "steps": 0 if scaler_spec and number == 0 else 1,
                "state": {k: v.clone() for k, v in state_dict.items()}, "grads": {k: None for k in state_dict}}
        if scaler_spec:
            scale = scale / 2 if number == 0 else scale * 2 if number == 2 else scale
            call.update(scale=float(scale), growth_tracker=number % 2)
        calls.append(call)
    return calls


def _accumulation(module, model_spec, state_dict, optimizer_spec, rounds, loss="mse", device="cpu"):
    return {"calls": _calls(state_dict, len(rounds)), "error": None}


def _mixed_precision(module, model_spec, state_dict, optimizer_spec, scaler_spec, batches, max_norm=None, loss="mse",
                     device="cpu"):
    return {"calls": _calls(state_dict, len(batches), scaler_spec), "error": None}


_DRIVERS["ex15_train_at_scale/accumulation"] = _accumulation
_DRIVERS["ex15_train_at_scale/mixed_precision"] = _mixed_precision


def accumulated_step(model, loss_fn, optimizer, micro_batches):
    return 1.0


def amp_step(model, loss_fn, optimizer, scaler, x, y, max_norm=None):
    return 1.0

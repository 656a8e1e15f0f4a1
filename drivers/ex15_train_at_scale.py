"""Drivers of exercise 15: both functions take a model, an optimizer (and a gradient scaler),
so a check cannot call them with tensors alone. A driver builds what they need from plain
data, calls the learner's function and reports, as plain data, what it then finds.

This file runs in two places, which is why it imports nothing but torch and the standard
library: inside the sandbox's worker, beside the learner's module (sent there by the grader
and run before any learner code), and in the grader's own process, where the checks run
the same drivers on the reference solution and on each simulated mistake. The worker's
report is untrusted: the check states what it must hold (its schema) and compares it with
the report made here.

Contract (a course folder's `drivers/<exercise module>.py`): `DRIVERS = {name:
fn(module, **params) -> plain data}`; params come from the check and may hold tensors. A
learner's NotImplementedError propagates, so that the grader reports "not started"; any
other error is reported with the call it happened in.
"""
from __future__ import annotations

import os
import traceback
from typing import Any

import torch
from torch import nn

LAYERS = {"linear": nn.Linear, "tanh": nn.Tanh, "relu": nn.ReLU}
OPTIMIZERS = ("SGD", "Adam")
LOSSES = {"mse": nn.MSELoss, "cross_entropy": nn.CrossEntropyLoss}


def build_model(spec: dict[str, Any], state_dict: dict[str, torch.Tensor] | None = None,
                device: str = "cpu") -> nn.Sequential:
    """`{"layers": [["linear", 4, 8], ["tanh"], ...], "dtype": "float64"}` -> nn.Sequential
    on `device`, loaded with `state_dict` when one is given."""
    with torch.random.fork_rng(devices=[]):  # the default initialisation leaves the caller's RNG alone
        model = nn.Sequential(*[LAYERS[kind](*args) for kind, *args in spec["layers"]])
    model = model.to(getattr(torch, spec.get("dtype", "float32")))
    if state_dict is not None:
        model.load_state_dict(state_dict)
    return model.to(device)


def build_optimizer(spec: dict[str, Any], model: nn.Module) -> torch.optim.Optimizer:
    if spec["name"] not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {spec['name']!r}")
    settings = {k: v for k, v in spec.items() if k != "name"}
    optimizer: torch.optim.Optimizer = getattr(torch.optim, spec["name"])(model.parameters(), **settings)
    return optimizer


def step_counter(optimizer: torch.optim.Optimizer) -> list[int]:
    """A one-item list that counts the optimizer's steps (however they are reached: directly
    or through a gradient scaler, which skips a step by not calling it)."""
    count = [0]

    def counted(opt: Any, args: Any, kwargs: Any) -> None:
        count[0] += 1

    optimizer.register_step_post_hook(counted)
    return count


def plain(tensor: torch.Tensor) -> torch.Tensor:
    found = torch.Tensor.detach(tensor)
    if type(found) is not torch.Tensor:
        found = found.as_subclass(torch.Tensor)
    return found.cpu().clone()


def snapshot(model: nn.Module) -> dict[str, Any]:
    """Every parameter by name, and its .grad (None when unset)."""
    return {
        "state": {name: plain(p) for name, p in model.named_parameters()},
        "grads": {name: None if p.grad is None else plain(p.grad) for name, p in model.named_parameters()},
    }


def returned(out: Any) -> dict[str, Any]:
    """What the learner's function returned: its type's name, and its value when it is a
    number or a tensor."""
    report: dict[str, Any] = {"type": type(out).__name__, "is_float": isinstance(out, float), "value": None,
                              "requires_grad": False}
    if isinstance(out, torch.Tensor):
        report["value"] = plain(out)
        report["requires_grad"] = bool(out.requires_grad)
    elif isinstance(out, (int, float)) and not isinstance(out, bool):
        report["value"] = float(out)
    return report


def error(exc: BaseException, call: int) -> dict[str, Any]:
    """What the learner's code raised, with only the learner's own frames (from the
    worker's folder) as context."""
    here = os.getcwd()
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.dirname(os.path.abspath(f.filename)) == here]
    return {"type": type(exc).__name__, "message": str(exc)[:1000], "line": frames[-1].lineno if frames else None,
            "where": "".join(traceback.format_list(frames[-3:])).replace(here + os.sep, ""), "call": call}


def _run(calls: list[Any], one: Any, model: nn.Module, steps: list[int], extra: Any = None) -> dict[str, Any]:
    """Make each call with `one(arguments)`; after each, what it returned, the optimizer
    steps it took and the model's parameters and gradients (and `extra()`). An error stops
    the run and is reported with the call it happened in."""
    reports: list[dict[str, Any]] = []
    for number, arguments in enumerate(calls, start=1):
        before = steps[0]
        try:
            out = one(arguments)
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - the learner's error is data to report
            return {"calls": reports, "error": error(exc, number)}
        reports.append({"returned": returned(out), "steps": steps[0] - before, **snapshot(model),
                        **(extra() if extra else {})})
    return {"calls": reports, "error": None}


def accumulation(module: Any, model_spec: dict[str, Any], state_dict: dict[str, torch.Tensor],
                 optimizer_spec: dict[str, Any], rounds: list[list[Any]], loss: str = "mse",
                 device: str = "cpu") -> dict[str, Any]:
    """Call `module.accumulated_step(model, loss_fn, optimizer, micro_batches)` once per
    round, each round a list of (x, y) micro-batches, on one model and optimizer."""
    model = build_model(model_spec, state_dict, device).train()
    optimizer = build_optimizer(optimizer_spec, model)
    steps = step_counter(optimizer)
    loss_fn = LOSSES[loss]()

    def one(micro_batches: list[Any]) -> Any:
        batches = [(x.to(device), y.to(device)) for x, y in micro_batches]
        return module.accumulated_step(model, loss_fn, optimizer, batches)

    return _run(rounds, one, model, steps)


def mixed_precision(module: Any, model_spec: dict[str, Any], state_dict: dict[str, torch.Tensor],
                    optimizer_spec: dict[str, Any], scaler_spec: dict[str, Any], batches: list[Any],
                    max_norm: float | None = None, loss: str = "mse", device: str = "cpu") -> dict[str, Any]:
    """Call `module.amp_step(model, loss_fn, optimizer, scaler, x, y, max_norm=max_norm)`
    once per (x, y) batch, on one model, optimizer and `torch.amp.GradScaler` of the
    device's type; after each call, also the scaler's scale and growth tracker."""
    model = build_model(model_spec, state_dict, device).train()
    optimizer = build_optimizer(optimizer_spec, model)
    steps = step_counter(optimizer)
    scaler = torch.amp.GradScaler(torch.device(device).type, **scaler_spec)
    loss_fn = LOSSES[loss]()

    def one(batch: Any) -> Any:
        x, y = batch
        return module.amp_step(model, loss_fn, optimizer, scaler, x.to(device), y.to(device), max_norm=max_norm)

    def scale() -> dict[str, Any]:
        state = torch.amp.GradScaler.state_dict(scaler)
        return {"scale": float(state["scale"]), "growth_tracker": int(state["_growth_tracker"])}

    return _run(batches, one, model, steps, scale)


DRIVERS = {"accumulation": accumulation, "mixed_precision": mixed_precision}

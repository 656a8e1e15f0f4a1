"""Drivers: trusted harness code that runs beside a learner's module inside a worker, for
exercises whose functions take models and optimizers rather than tensors (ex07, ex08), and
for checks that need many plain values of one function (`values`: ex09's finite differences).

The zygote execs this file before any learner code, and it imports nothing from lossgrade.
A driver builds what the learner's function needs (a model from a plain spec, an optimizer,
a loss), calls the function, and reports what it observed as plain data: dicts, lists,
strings, numbers and tensors. The grader treats that report as untrusted, recomputes the
reference itself from the same spec (through these very functions, in its own process) and
decides every verdict there.

Contract: `DRIVERS = {name: fn(module, **params) -> plain data}`; params arrive from the
grader through the sandbox's wire format and may hold tensors and state dicts. A learner's
NotImplementedError (and, for train_steps, only that) propagates so that the grader reports
"not started".
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

# ------------------------------------------------------------------------------ building
LAYERS: dict[str, Callable[..., nn.Module]] = {
    "linear": nn.Linear,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "dropout": nn.Dropout,
    "batchnorm": nn.BatchNorm1d,
}
OPTIMIZERS = ("SGD", "Adam")
LOSSES: dict[str, Callable[[], nn.Module]] = {"mse": nn.MSELoss, "cross_entropy": nn.CrossEntropyLoss}


def build_model(spec: dict[str, Any], state_dict: dict[str, torch.Tensor] | None = None,
                device: str = "cpu") -> nn.Sequential:
    """`{"layers": [["linear", 4, 8], ["tanh"], ...], "dtype": "float64"}` -> nn.Sequential
    on `device`, loaded with `state_dict` when one is given (every parameter and buffer)."""
    with torch.random.fork_rng(devices=[]):  # the default initialisation leaves the caller's RNG alone
        layers = [LAYERS[kind](*args) for kind, *args in spec["layers"]]
    model = nn.Sequential(*layers).to(getattr(torch, spec.get("dtype", "float64")))
    if state_dict is not None:
        model.load_state_dict(state_dict)
    return model.to(device)


def build_optimizer(spec: dict[str, Any], model: nn.Module) -> torch.optim.Optimizer:
    """`{"name": "SGD", "lr": 0.1, "momentum": 0.9}` -> that optimizer over the model."""
    settings = {k: v for k, v in spec.items() if k != "name"}
    if spec["name"] not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {spec['name']!r}")
    optimizer: torch.optim.Optimizer = getattr(torch.optim, spec["name"])(model.parameters(), **settings)
    return optimizer


# ------------------------------------------------------------------------------ reporting
def snapshot(model: nn.Module) -> dict[str, Any]:
    """Every parameter and buffer by name, and every parameter's .grad (None when unset)."""
    return {
        "state": {name: _plain_tensor(t) for name, t in model.state_dict().items()},
        "grads": {name: None if p.grad is None else _plain_tensor(p.grad) for name, p in model.named_parameters()},
        "modes": [m.training for m in model.modules()],
    }


_TYPE_NAME = type.__dict__["__name__"].__get__  # a class's own name, whatever its metaclass says


def returned(out: Any) -> dict[str, Any]:
    """What a learner's function returned, with its Python type's name."""
    report: dict[str, Any] = {"type": _TYPE_NAME(type(out)), "is_float": isinstance(out, float),
                              "value": None, "requires_grad": False}
    if isinstance(out, torch.Tensor):
        report["value"] = _plain_tensor(out)
        report["requires_grad"] = bool(out.requires_grad)
    elif isinstance(out, (int, float)) and not isinstance(out, bool):
        report["value"] = float(out)
    return report


def error(exc: BaseException, call: int) -> dict[str, Any]:
    """What a learner's code raised, with only the learner's own frames (from the worker's
    folder) as context."""
    here = os.getcwd()
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.dirname(os.path.abspath(f.filename)) == here]
    return {
        "type": _TYPE_NAME(type(exc)),
        "message": str(exc)[:1000],
        "line": frames[-1].lineno if frames else None,
        "where": "".join(traceback.format_list(frames[-3:])).replace(here + os.sep, ""),
        "call": call,
    }


def _plain_tensor(tensor: torch.Tensor) -> torch.Tensor:
    plain = torch.Tensor.detach(tensor)
    if type(plain) is not torch.Tensor:
        plain = plain.as_subclass(torch.Tensor)
    return plain.cpu().clone()


class Recorder:
    """A loss function that notes, at each call, whether autograd was recording and whether
    the model's output carried a graph."""

    def __init__(self, loss: nn.Module) -> None:
        self.loss = loss
        self.calls: list[dict[str, bool]] = []

    def __call__(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.calls.append({"grad_enabled": torch.is_grad_enabled(),
                           "output_requires_grad": bool(getattr(output, "requires_grad", False))})
        result: torch.Tensor = self.loss(output, target)
        return result


# ------------------------------------------------------------------------------ ex07
def train_steps(module: Any, model_spec: dict[str, Any], state_dict: dict[str, torch.Tensor],
                optimizer_spec: dict[str, Any], batches: list[tuple[torch.Tensor, torch.Tensor]],
                loss: str, device: str = "cpu") -> dict[str, Any]:
    """Call `module.train_step` once per batch on a model built from the spec, model and
    batches on `device`; after each call, what it returned and the model's parameters,
    buffers and gradients. An error stops the run and is reported with the call it
    happened in."""
    model = build_model(model_spec, state_dict, device).train()
    optimizer = build_optimizer(optimizer_spec, model)
    loss_fn = LOSSES[loss]()
    steps: list[dict[str, Any]] = []
    raised = None
    for call, (x, y) in enumerate(batches, start=1):
        try:
            out = module.train_step(model, loss_fn, optimizer, x.to(device), y.to(device))
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - the learner's error is data to report
            raised = error(exc, call)
            break
        steps.append({"returned": returned(out), **snapshot(model)})
    return {"steps": steps, "error": raised}


def seed_every_generator(seed: int) -> None:
    """`torch.manual_seed(seed)`, without its lazy set-up of accelerators where there are
    none: torch records a stack trace for each (reading the source of every frame on it,
    ~0.1 ms a call with the line cache full, a few ms in a fresh worker)."""
    if torch.accelerator.is_available():
        torch.manual_seed(seed)
    else:
        torch.default_generator.manual_seed(seed)


def evaluate(module: Any, model_spec: dict[str, Any], state_dict: dict[str, torch.Tensor], x: torch.Tensor,
             y: torch.Tensor, loss: str, train_mode: bool, device: str = "cpu",
             grads: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
    """Call `module.evaluate` on a model built from the spec (on `device`, with x and y),
    put in train or eval mode first, its parameters' .grad set from `grads` when given (the
    gradients a training loop had accumulated); report the value, the model before and
    after, and what the forward pass and the loss saw (the mode of every layer that ran;
    whether autograd was recording). An error is reported, not raised, so that the mode
    afterwards can still be seen."""
    model = build_model(model_spec, state_dict, device).train(train_mode)
    for name, parameter in model.named_parameters():
        if grads is not None and name in grads:
            parameter.grad = grads[name].to(device=device, dtype=parameter.dtype).clone()
    x, y = x.to(device), y.to(device)
    seen_modes: list[bool] = []
    for layer in model.modules():  # every layer: the top module in eval mode, its layers in train, is train mode
        layer.register_forward_pre_hook(lambda m, args: seen_modes.append(m.training))
    loss_fn = Recorder(LOSSES[loss]())
    before = snapshot(model)
    report: dict[str, Any] = {"returned": None, "error": None}
    seed_every_generator(0)  # dropout left in train mode: the same "got" on every run, in any process
    try:
        report["returned"] = returned(module.evaluate(model, loss_fn, x, y))
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. the forward pass that the check makes fail
        report["error"] = error(exc, 1)
    report.update(before=before, after=snapshot(model), forward_modes=seen_modes, loss_calls=loss_fn.calls,
                  grad_enabled_after=torch.is_grad_enabled())
    torch.set_grad_enabled(True)  # whatever the learner left behind, for the next request
    return report


# ------------------------------------------------------------------------------ time limits
class TimeUp(BaseException):
    """Raised into learner code when a driver's time for it is up (a BaseException, so that
    an `except Exception` in the learner's loop does not swallow it)."""


class Clock:
    """Whether a `time_limit`'s time ran out: learner code may swallow `TimeUp` (a bare
    `except:`) and go on with what it was doing."""

    up = False


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[Clock]:
    """`TimeUp` raised into the code inside after `seconds` (the next Python line it runs).
    A worker runs drivers in its main thread; elsewhere (in-process grading from a thread)
    there is no timer, and the grader's own timeout is the only limit."""
    clock = Clock()

    def stop(signum: int, frame: Any) -> None:
        clock.up = True
        raise TimeUp()

    timer = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGALRM, stop) if timer else None
    try:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, seconds)
        yield clock
    finally:
        if timer:
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
            finally:  # put back even where the time ran out just now, in the line above
                signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------------------ ex08
def fit(module: Any, function: str, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor,
        limit: float, num_classes: int | None = None, x_parts: list[torch.Tensor] | None = None) -> dict[str, Any]:
    """Call `module.<function>(x, y[, num_classes])` with `limit` seconds to finish, then the
    returned model's output on the held-out `x_test`, in eval mode, under no_grad; and then
    its output on each of `x_parts` (the same inputs in other batches: a prediction must not
    depend on the batch it comes in)."""
    args: tuple[Any, ...] = (x, y) if num_classes is None else (x, y, num_classes)
    started = time.perf_counter()
    try:
        with time_limit(limit):
            model = getattr(module, function)(*args)
    except TimeUp:
        return {"stopped": True, "seconds": time.perf_counter() - started}
    seconds = time.perf_counter() - started
    torch.set_grad_enabled(True)
    report: dict[str, Any] = {"stopped": False, "seconds": seconds, "type": _TYPE_NAME(type(model)),
                              "is_module": isinstance(model, nn.Module), "output": None, "parts": []}
    if report["is_module"]:
        model.eval()
        with torch.no_grad():
            report["output"] = returned(model(x_test))
            report["parts"] = [returned(model(part)) for part in x_parts or []]
    return report


# ------------------------------------------------------------------------------ many values
VALUES_SECONDS = 1.0  # for all the calls of one `values` request; those it has not made are made one by one


def values(module: Any, function: str, calls: list[list[Any]]) -> dict[str, Any]:
    """`module.<function>(*args)` for each argument list of `calls`, each on copies of its
    own, in order: the value of each result, while each is a tensor (of torch's own class)
    of one element that left its arguments as they were. The first call that is not (or
    raises, or is running when VALUES_SECONDS in all are up) ends the list there: the grader
    makes that call and the rest one at a time, as for any call, and its replies say what
    went wrong. What the grader reads from a call's reply, `float(value.double().item())`,
    without a reply per call."""
    found = module
    for name in function.split("."):  # "CrossEntropyFunction.apply": a class's method
        found = getattr(found, name)
    report: list[float] = []
    try:
        with time_limit(VALUES_SECONDS) as clock:
            for args in calls:
                given = [arg.clone() if type(arg) is torch.Tensor else arg for arg in args]
                try:
                    out = found(*given)
                except Exception:  # noqa: BLE001 - said by the call made again on its own
                    break
                if clock.up:  # the time ran out in this call, whose code swallowed it: not its own value
                    break
                if (type(out) is not torch.Tensor or out.numel() != 1
                        or not all(type(mine) is torch.Tensor and _unchanged(mine, arg)
                                   for mine, arg in zip(given, args) if type(arg) is torch.Tensor)):
                    break
                report.append(float(torch.Tensor.detach(out).cpu().double().item()))
    except TimeUp:
        pass  # the calls not made yet are made one by one
    return {"values": report}


def _unchanged(given: torch.Tensor, original: torch.Tensor) -> bool:
    return given.dtype == original.dtype and given.shape == original.shape and bool(torch.equal(given, original))


DRIVERS: dict[str, Callable[..., Any]] = {"train_steps": train_steps, "evaluate": evaluate, "fit": fit,
                                          "values": values}

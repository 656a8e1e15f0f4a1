"""Checks for exercise 07: `train_step` (measure, diagnose, update) and `evaluate`.

Both functions take a model, so they run through drivers (`sandbox/_drivers.py`): inside the
worker a driver builds a small float64 MLP from a spec and a seeded state dict, calls the
learner's function and reports the parameters, gradients and modes it then finds. Here,
in the trusted process, the same driver code runs the reference solution on the same
model, data and optimizer, and every verdict compares the two. When they differ, each wrong
order of the five lines (see `misconceptions/ex07_train_step.py`) is simulated the same way,
and the one that reproduces the learner's run, call after call, is named.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import torch

from lossgrade.checks import compare
from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.misconceptions import ex07_train_step as wrong
from lossgrade.sandbox import _drivers

checks = Checks("ex07_train_step")

MLP = {"layers": [["linear", 4, 8], ["tanh"], ["linear", 8, 3]], "dtype": "float64"}
# dropout and batch norm: the two layers whose behaviour depends on train/eval mode
EVAL_NET = {"layers": [["linear", 4, 8], ["batchnorm", 8], ["relu"], ["dropout", 0.5], ["linear", 8, 3]],
            "dtype": "float64"}
SGD = {"name": "SGD", "lr": 0.1, "momentum": 0.9}
# eps well above torch's 1e-8: Adam's step hardly changes when every gradient is scaled (a second
# backward() doubles them), but with a large eps it does, so such a mistake fails this check under
# every grading secret, not only when a draw leaves some gradient near 1e-8.
ADAM = {"name": "Adam", "lr": 0.01, "eps": 0.01}
LOSS_NAMES = {"mse": "nn.MSELoss()", "cross_entropy": "nn.CrossEntropyLoss()"}
F64 = torch.float64


# --- scenarios and runs ---------------------------------------------------------------------
def _state(t: CheckContext, spec: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A seeded state dict for the spec's model: weights ~ N(0, 0.5²), batch-norm running
    statistics far from their defaults, so that eval mode visibly differs from train mode."""
    state = {}
    for name, tensor in _drivers.build_model(spec).state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(10)
        elif name.endswith("running_var"):
            state[name] = 0.5 + t.rand(*tensor.shape, dtype=F64)
        else:
            state[name] = t.randn(*tensor.shape, dtype=F64, scale=0.5)
    return state


def _scenario(t: CheckContext, optimizer: dict[str, Any], calls: int, loss: str = "mse") -> dict[str, Any]:
    batches = []
    for _ in range(calls):
        x = t.randn(6, 4, dtype=F64)
        y = t.randn(6, 3, dtype=F64) if loss == "mse" else t.randint(3, 6)
        batches.append((x, y))
    return {"model_spec": MLP, "state_dict": _state(t, MLP), "optimizer_spec": optimizer, "batches": batches,
            "loss": loss, "device": t.device}


def _describe(scenario: dict[str, Any]) -> str:
    spec = dict(scenario["optimizer_spec"])
    name = spec.pop("name")
    settings = ", ".join(f"{k}={v}" for k, v in spec.items())
    calls = len(scenario["batches"])
    times = "once" if calls == 1 else f"{calls} times in a row, on {calls} different batches"
    return (f"train_step(model, {LOSS_NAMES[scenario['loss']]}, torch.optim.{name}(model.parameters(), {settings}), "
            f"x, y), called {times}; model = {_layers(scenario['model_spec'])} in float64, x of shape (6, 4)"
            f"{_on(scenario)}")


def _on(scenario: dict[str, Any]) -> str:
    """", model and data on cuda" where a check runs on a GPU; nothing on the CPU."""
    return "" if scenario["device"] == "cpu" else f", model and data on {scenario['device']}"


def _layers(spec: dict[str, Any]) -> str:
    """"nn.Sequential(Linear(4, 8), Tanh(), ...)" for a model spec."""
    layers = [f"{_drivers.LAYERS[kind].__name__}({', '.join(map(str, args))})" for kind, *args in spec["layers"]]
    return f"nn.Sequential({', '.join(layers)})"


@dataclass
class Run:
    """One run of train_steps: after each call, what came back and the model's state."""

    steps: list[dict[str, Any]]  # {"returned": {...}, "state": {name: tensor}, "grads": {name: tensor | None}}
    error: dict[str, Any] | None

    @classmethod
    def parse(cls, t: CheckContext, value: Any) -> Run:
        try:
            steps = list(value["steps"])
            for step in steps:
                assert isinstance(step["returned"], dict) and isinstance(step["state"], dict)
                assert all(isinstance(v, torch.Tensor) for v in step["state"].values())
                assert all(v is None or isinstance(v, torch.Tensor) for v in step["grads"].values())
            error = value["error"]
            assert error is None or isinstance(error["message"], str)
        except (AssertionError, KeyError, TypeError) as exc:
            t.fail(f"The grader's driver reported data it cannot read ({type(exc).__name__}); did your code "
                   "change the model or the optimizer in an unusual way?")
        return cls(steps, error)


def simulate(train_step: Any, scenario: dict[str, Any]) -> Run:
    """The driver's report for our own `train_step` (the reference or a wrong order), run
    here in the trusted process on the scenario's model, data and optimizer."""
    report = _drivers.train_steps(SimpleNamespace(train_step=train_step), **scenario)
    return Run(report["steps"], report["error"])


def _run_learner(t: CheckContext, scenario: dict[str, Any]) -> Run:
    reply = t.learner.drive("train_steps", **scenario)
    t.require_value(reply, _describe(scenario))
    return Run.parse(t, reply.value)


def _empty(grad: torch.Tensor | None) -> bool:
    return grad is None or not bool(grad.any())


def _same_grads(got: dict[str, Any], want: dict[str, Any]) -> bool:
    if got.keys() != want.keys():
        return False
    return all(_empty(g) and _empty(w) or (g is not None and w is not None and compare.close(g, w))
               for g, w in ((got[k], want[k]) for k in got))


def _state_problem(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> str | None:
    if got.keys() != want.keys():
        return f"the model's parameters are {sorted(got)} but should be {sorted(want)}"
    for name, expected in want.items():
        problem = compare.mismatch(got[name], expected)
        if problem:
            return f"parameter '{name}' is not what the reference step gives: {problem}"
    return None


def _same_run(got: Run, want: Run) -> bool:
    if len(got.steps) != len(want.steps) or (got.error is None) != (want.error is None):
        return False
    if got.error and want.error and (got.error["type"], got.error["message"][:50], got.error["call"]) != (
            want.error["type"], want.error["message"][:50], want.error["call"]):
        return False
    return all(_state_problem(a["state"], b["state"]) is None and _same_grads(a["grads"], b["grads"])
               for a, b in zip(got.steps, want.steps, strict=True))


def _fail_diagnosed(t: CheckContext, scenario: dict[str, Any], run: Run, what: str) -> None:
    """Fail with `what`, naming the wrong order whose simulation reproduces the learner's run."""
    call = _describe(scenario)
    for order in wrong.WRONG_ORDERS:
        if _same_run(run, simulate(order.train_step, scenario)):
            t.fail(f"{what} Your run shows that {order.shows}.", call=call, mistake=order.mistake)
    initial = scenario["state_dict"]
    if run.error:
        t.fail(what, call=call, got=run.error.get("where") or None)
    if run.steps and all(_state_problem(step["state"], initial) is None for step in run.steps):
        what += (" The parameters never moved: check that optimizer.step() runs after loss.backward(), with "
                 "the gradients still in .grad.")
    else:
        what += " Check the order: zero_grad, forward and loss, backward, step, each once per call."
    t.fail(what, call=call)


def _fail_on_error(t: CheckContext, scenario: dict[str, Any], run: Run) -> None:
    if run.error:
        where = f" at line {run.error['line']}" if run.error.get("line") else ""
        lines = run.error["message"].splitlines() or [""]
        _fail_diagnosed(t, scenario, run, f"In call {run.error['call']}, train_step raised "
                                          f"{run.error['type']}{where}: {lines[0]}")


def _expect_reference_steps(t: CheckContext, scenario: dict[str, Any]) -> None:
    run = _run_learner(t, scenario)
    _fail_on_error(t, scenario, run)
    reference = simulate(t.reference.train_step, scenario)
    calls = len(scenario["batches"])
    # The report holds one step per call (replies.report_schema), and an error was dealt with above.
    for number, (got, want) in enumerate(zip(run.steps, reference.steps, strict=True), start=1):
        problem = _state_problem(got["state"], want["state"])
        if problem:
            after = "After the call" if calls == 1 else f"After call {number} of {calls}"
            _fail_diagnosed(t, scenario, run, f"{after}, {problem}.")


# --- train_step -------------------------------------------------------------------------------
ORDER_HINT = ("Five lines, in this order: optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); "
              "optimizer.step(); return loss.item().")


@checks.add("after one train_step with SGD (lr 0.1, momentum 0.9) on a small MLP, every parameter equals the "
            "reference step's", devices=True, hint=ORDER_HINT)
def sgd_step(t: CheckContext) -> None:
    _expect_reference_steps(t, _scenario(t, SGD, calls=1))


@checks.add("after one train_step with Adam (lr 0.01, eps 0.01) and cross-entropy, every parameter equals the reference "
            "step's", devices=True, hint=ORDER_HINT)
def adam_step(t: CheckContext) -> None:
    _expect_reference_steps(t, _scenario(t, ADAM, calls=1, loss="cross_entropy"))


@checks.add("three train_step calls in a row (SGD with momentum, then Adam) follow three reference steps: "
            "gradients do not pile up from one call to the next", devices=True,
            hint="backward() adds to .grad. Clear the gradients once in every call, before backward() "
                 "(or after step()), never between backward() and step().")
def steps_in_a_row(t: CheckContext) -> None:
    _expect_reference_steps(t, _scenario(t, SGD, calls=3))
    _expect_reference_steps(t, _scenario(t, ADAM, calls=3, loss="cross_entropy"))


@checks.add("train_step returns the loss of the batch before the update, as a Python float", devices=True,
            hint="Keep the loss you called backward() on and return loss.item() at the end.")
def returns_loss_before_update(t: CheckContext) -> None:
    scenario = _scenario(t, SGD, calls=1)
    run = _run_learner(t, scenario)
    call = _describe(scenario)
    _fail_on_error(t, scenario, run)
    got = run.steps[0]["returned"]
    expected = simulate(t.reference.train_step, scenario).steps[0]["returned"]["value"]
    if isinstance(got["value"], torch.Tensor):
        graph = " that still carries the forward pass's graph (requires_grad=True)" if got["requires_grad"] else ""
        t.fail(f"train_step returned a torch.Tensor{graph}; it should return a Python float.", call=call,
               got=f"{got['type']} {compare.show(got['value'])}", expected=compare.show(expected),
               mistake=wrong.RETURNED_TENSOR)
    if not got["is_float"]:
        shown = "None (is the `return` missing?)" if got["type"] == "NoneType" else f"a {got['type']}"
        t.fail(f"train_step returned {shown}; it should return the loss as a Python float (loss.item()).",
               call=call, got=compare.show(got["value"]), expected=compare.show(expected))
    if not _close(got["value"], expected):
        measured_again = next(o for o in wrong.WRONG_ORDERS if o.mistake == wrong.LOSS_AFTER_UPDATE)
        after = simulate(measured_again.train_step, scenario).steps[0]["returned"]["value"]
        if _close(got["value"], after):
            t.fail("train_step returned the loss measured after optimizer.step(), not before it.", call=call,
                   got=compare.show(got["value"]), expected=compare.show(expected), mistake=wrong.LOSS_AFTER_UPDATE)
        t.fail("train_step returned a number that is not this batch's loss before the update.", call=call,
               got=compare.show(got["value"]), expected=compare.show(expected))


def _close(got: float, expected: float) -> bool:
    return compare.close(torch.tensor(got, dtype=F64), torch.tensor(expected, dtype=F64))


# --- evaluate ---------------------------------------------------------------------------------
def _eval_scenario(t: CheckContext, train_mode: bool, features: int = 4) -> dict[str, Any]:
    return {"model_spec": EVAL_NET, "state_dict": _state(t, EVAL_NET), "x": t.randn(8, features, dtype=F64),
            "y": t.randint(3, 8), "loss": "cross_entropy", "train_mode": train_mode, "device": t.device}


def _eval_call(scenario: dict[str, Any]) -> str:
    mode = "train" if scenario["train_mode"] else "eval"
    return (f"evaluate(model, nn.CrossEntropyLoss(), x, y) with model = {_layers(scenario['model_spec'])} in float64, "
            f"in {mode} mode, and x of shape {tuple(scenario['x'].shape)}{_on(scenario)}")


def _run_evaluate(t: CheckContext, scenario: dict[str, Any], expect_error: bool = False) -> dict[str, Any]:
    reply = t.learner.drive("evaluate", **scenario)
    t.require_value(reply, _eval_call(scenario))
    report: dict[str, Any] = reply.value
    if not isinstance(report, dict) or not {"before", "after", "forward_modes", "loss_calls"} <= report.keys():
        t.fail("The grader's driver reported data it cannot read; did your code change the model in an unusual way?")
    error = report.get("error")
    if error and not expect_error:
        where = f" at line {error['line']}" if error.get("line") else ""
        t.fail(f"evaluate raised {error['type']}{where}: {error['message'].splitlines()[0]}",
               call=_eval_call(scenario), got=error.get("where") or None)
    return report


def _expected_eval_loss(scenario: dict[str, Any]) -> float:
    device = scenario["device"]
    model = _drivers.build_model(scenario["model_spec"], scenario["state_dict"], device).eval()
    with torch.no_grad():
        loss = _drivers.LOSSES[scenario["loss"]]()(model(scenario["x"].to(device)), scenario["y"].to(device))
        return float(loss.item())


@checks.add("evaluate returns, as a Python float, the loss in eval mode: dropout off, batch norm on its running "
            "statistics", devices=True, hint="Call model.eval() before the forward pass and return loss.item().")
def evaluate_value(t: CheckContext) -> None:
    scenario = _eval_scenario(t, train_mode=True)
    report = _run_evaluate(t, scenario)
    call, got = _eval_call(scenario), report["returned"]
    expected = _expected_eval_loss(scenario)
    if isinstance(got["value"], torch.Tensor):
        t.fail("evaluate returned a torch.Tensor; it should return a Python float.", call=call,
               got=f"{got['type']} {compare.show(got['value'])}", expected=compare.show(expected),
               mistake=wrong.RETURNED_TENSOR)
    if not got["is_float"]:
        t.fail(f"evaluate returned a {got['type']}; it should return the loss as a Python float (loss.item()).",
               call=call, expected=compare.show(expected))
    if any(report["forward_modes"]):
        t.fail("The forward pass ran with the model in training mode, so dropout dropped units at random and "
               "batch norm used the batch's statistics.", call=call, got=compare.show(got["value"]),
               expected=compare.show(expected), mistake=wrong.EVAL_TRAIN_MODE)
    if not _close(got["value"], expected):
        t.fail("evaluate returned a number that is not the model's loss on (x, y) in eval mode.", call=call,
               got=compare.show(got["value"]), expected=compare.show(expected))


@checks.add("evaluate changes no parameter or buffer, leaves every .grad as it found it (no new gradient, none "
            "wiped), and runs the forward pass under torch.no_grad()",
            hint="Wrap the forward pass and the loss in `with torch.no_grad():`, and call no backward(), step() or "
                 "zero_grad().")
def evaluate_changes_nothing(t: CheckContext) -> None:
    scenario = _eval_scenario(t, train_mode=True)
    # .grad holds what a training loop accumulated before this evaluation: it must be there after it too.
    scenario["grads"] = {name: t.randn(*p.shape, dtype=F64)
                         for name, p in _drivers.build_model(scenario["model_spec"]).named_parameters()}
    report = _run_evaluate(t, scenario)
    call = _eval_call(scenario)
    for name, tensor in report["before"]["state"].items():
        if compare.mismatch(report["after"]["state"].get(name, torch.zeros(0)), tensor):
            mistake = wrong.EVAL_TRAIN_MODE if "running" in name and any(report["forward_modes"]) else None
            t.fail(f"evaluate changed '{name}'" + (" (batch norm updates its running statistics in training mode)"
                                                  if mistake else "") + ".", call=call, mistake=mistake)
    for name, grad in report["before"]["grads"].items():
        after = report["after"]["grads"].get(name)
        if grad is None and after is not None:
            t.fail(f"After evaluate, .grad of '{name}' held a gradient: evaluate ran backward(), with autograd "
                   "recording.", call=call, mistake=wrong.EVAL_NO_GRAD)
        if grad is None or (after is not None and not compare.mismatch(after, grad)):
            continue
        if after is None or not bool(after.any()):
            t.fail(f"evaluate {'set' if after is None else 'zeroed'} .grad of '{name}'"
                   f"{' to None' if after is None else ''}: the gradient the training loop had accumulated before "
                   "the evaluation is gone.", call=call + ", its parameters' .grad holding gradients",
                   got=f".grad of '{name}': {'None' if after is None else 'zeros'}",
                   expected=f".grad of '{name}' as it was", mistake=wrong.EVAL_ZEROED_GRADS)
        t.fail(f"After evaluate, .grad of '{name}' held a gradient other than the one it held before: evaluate ran "
               "backward(), "
               "with autograd recording.", call=call, mistake=wrong.EVAL_NO_GRAD)
    recording = [c for c in report["loss_calls"] if c["grad_enabled"] or c["output_requires_grad"]]
    if recording or report["returned"]["requires_grad"]:
        t.fail("The loss was computed with autograd recording (the model's output had requires_grad=True): the "
               "forward pass did not run under torch.no_grad().", call=call, mistake=wrong.EVAL_NO_GRAD)
    if not report["grad_enabled_after"]:
        t.fail("evaluate left autograd switched off for the code that runs after it; use `with torch.no_grad():`, "
               "which switches it back on by itself.", call=call, mistake=wrong.EVAL_GRAD_LEFT_OFF)


@checks.add("evaluate leaves the model in the mode it found: a training model goes back to train mode, a model "
            "in eval mode stays in eval mode",
            hint="Remember `was_training = model.training` before model.eval(), and end with "
                 "model.train(was_training).")
def evaluate_restores_mode(t: CheckContext) -> None:
    for train_mode in (True, False):
        _expect_mode_restored(t, _eval_scenario(t, train_mode=train_mode), wrong.EVAL_MODE_NOT_RESTORED)


@checks.add("evaluate restores the model's mode even when the forward pass raises",
            hint="Put model.train(was_training) in a `finally:` block after a `try:` around the forward pass.")
def evaluate_restores_mode_on_error(t: CheckContext) -> None:
    _expect_mode_restored(t, _eval_scenario(t, train_mode=True), wrong.EVAL_MODE_NOT_RESTORED)
    _expect_mode_restored(t, _eval_scenario(t, train_mode=True, features=5), wrong.EVAL_NO_FINALLY, expect_error=True)


def _expect_mode_restored(t: CheckContext, scenario: dict[str, Any], mistake: str, expect_error: bool = False) -> None:
    report = _run_evaluate(t, scenario, expect_error=expect_error)
    before, after = report["before"]["modes"], report["after"]["modes"]
    if after == before:
        return
    found = "train" if scenario["train_mode"] else "eval"
    left = "train" if after and after[0] else "eval"
    if left == found:
        what = "evaluate changed the mode of some of the model's layers"
    elif expect_error:
        what = f"The forward pass raised, and evaluate left the model in {left} mode; it was in {found} mode"
    else:
        what = f"The model was in {found} mode before evaluate and in {left} mode after it"
    t.fail(what + ".", call=_eval_call(scenario), got=f"model.training == {left == 'train'}",
           expected=f"model.training == {found == 'train'}", mistake=mistake)

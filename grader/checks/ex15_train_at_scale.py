"""Checks for exercise 15: `accumulated_step` (gradient accumulation) and `amp_step` (mixed
precision with a gradient scaler).

Both take a model, so they run through the exercise's drivers (`drivers/ex15_train_at_scale.py`
of the course folder), as an instructor's checks of a training step would: `t.drive` runs
a driver beside the learner's module in the sandbox and returns its report once it fits the
schema written here (every parameter by name, shape and dtype; one entry per call, or an
error in the call after the last); `t.drive_here` runs the same driver here, in the trusted
process, on the reference solution or on a simulated mistake. Every verdict compares the
two. When they differ, each mistake of `misconceptions/ex15_train_at_scale.py` is run the
same way, and the one (and only one) whose run is the learner's is named.

`amp_step` runs in bfloat16 autocast on the CPU and float16 on CUDA, with a scale chosen per
device so that the first batch's scaled gradients overflow (and its step must be skipped)
while the others' do not: 2**100 with bfloat16, whose range is float32's, and 2**10 with
float16, whose largest number is 65504.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import torch

from lossgrade.checks import compare
from lossgrade.checks.framework import AnyOf, CheckContext, Checks, ListOf, Rule, TensorOf, nullable
from lossgrade.misconceptions import Mistake
from lossgrade.misconceptions import ex15_train_at_scale as wrong

checks = Checks("ex15_train_at_scale")

LAYERS: list[list[Any]] = [["linear", 4, 8], ["tanh"], ["linear", 8, 3]]
SGD = {"name": "SGD", "lr": 0.5, "momentum": 0.9}
MICRO_BATCHES = 4
MICRO_SIZE = 3
AMP_CALLS = 4
# Per device type: the scaler's settings and how far the first batch's targets are moved,
# so that its scaled gradients overflow the autocast type and no other batch's do.
AMP_SETTINGS = {"cpu": ({"init_scale": 2.0**100, "growth_interval": 2}, 1e10),  # bfloat16
                "cuda": ({"init_scale": 2.0**10, "growth_interval": 2}, 1e4)}  # float16


# --- the reports' schemas -------------------------------------------------------------------
def _parameters(dtype: torch.dtype) -> dict[str, tuple[int, ...]]:
    """Each parameter of the model LAYERS builds, by name and shape."""
    shapes: dict[str, tuple[int, ...]] = {}
    for index, (kind, *sizes) in enumerate(LAYERS):
        if kind == "linear":
            shapes[f"{index}.weight"] = (sizes[1], sizes[0])
            shapes[f"{index}.bias"] = (sizes[1],)
    return shapes


def _returned_fields(value: dict[str, Any], where: str) -> str | None:
    if value["is_float"] != (type(value["value"]) is float):
        return f"{where} says is_float={value['is_float']} of a {value['type']}"
    return None


RETURNED = Rule({"type": str, "is_float": bool, "value": AnyOf((type(None), float, TensorOf())), "requires_grad": bool},
                _returned_fields)
ERROR = {"type": str, "message": str, "line": nullable(int), "where": str, "call": int}


def _schema(dtype: torch.dtype, calls: int, scaler: bool) -> Rule:
    """What the driver reports for `calls` calls: per call, what came back, the optimizer
    steps taken, every parameter and its .grad (and with a scaler, its scale and growth
    tracker); all the calls, or those before an error in the next one."""
    shapes = _parameters(dtype)
    one = {"returned": RETURNED, "steps": int,
           "state": {name: TensorOf(shape, dtype) for name, shape in shapes.items()},
           "grads": {name: nullable(TensorOf(shape, dtype)) for name, shape in shapes.items()}}
    if scaler:
        one.update(scale=float, growth_tracker=int)

    def complete(report: dict[str, Any], where: str) -> str | None:
        made, error = len(report["calls"]), report["error"]
        if error is None and made != calls:
            return f"{where} holds {made} calls of {calls}, and no error"
        if error is not None and error["call"] != made + 1:
            return f"{where} holds {made} calls before an error in call {error['call']}"
        return None

    return Rule({"calls": ListOf(one, at_most=calls), "error": nullable(ERROR)}, complete)


# --- scenarios ------------------------------------------------------------------------------
def _state(t: CheckContext, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    return {name: t.randn(*shape, dtype=dtype, scale=0.5) for name, shape in _parameters(dtype).items()}


def _accumulation(t: CheckContext, calls: int) -> dict[str, Any]:
    rounds = [[(t.randn(MICRO_SIZE, 4, dtype=torch.float64), t.randn(MICRO_SIZE, 3, dtype=torch.float64))
               for _ in range(MICRO_BATCHES)] for _ in range(calls)]
    return {"model_spec": {"layers": LAYERS, "dtype": "float64"}, "state_dict": _state(t, torch.float64),
            "optimizer_spec": SGD, "rounds": rounds, "loss": "mse", "device": t.device}


def _mixed_precision(t: CheckContext, max_norm: float | None) -> dict[str, Any]:
    settings, overflow = AMP_SETTINGS[torch.device(t.device).type]
    batches = [(t.randn(6, 4), t.randn(6, 3) + (overflow if call == 0 else 0.0)) for call in range(AMP_CALLS)]
    return {"model_spec": {"layers": LAYERS, "dtype": "float32"}, "state_dict": _state(t, torch.float32),
            "optimizer_spec": SGD, "scaler_spec": settings, "batches": batches, "max_norm": max_norm,
            "loss": "mse", "device": t.device}


def _model() -> str:
    return "nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))"


def _on(scenario: dict[str, Any]) -> str:
    return "" if scenario["device"] == "cpu" else f", model and data on {scenario['device']}"


def _describe_accumulation(scenario: dict[str, Any]) -> str:
    calls = len(scenario["rounds"])
    times = "once" if calls == 1 else f"{calls} times in a row"
    return (f"accumulated_step(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9), "
            f"micro_batches), called {times}, each time with {MICRO_BATCHES} micro-batches of {MICRO_SIZE} samples; "
            f"model = {_model()} in float64{_on(scenario)}")


def _describe_amp(scenario: dict[str, Any]) -> str:
    settings = scenario["scaler_spec"]
    kind = torch.device(scenario["device"]).type
    scale = f"2**{int(settings['init_scale']).bit_length() - 1}"
    return (f"amp_step(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9), "
            f"torch.amp.GradScaler({kind!r}, init_scale={scale}, growth_interval={settings['growth_interval']}), "
            f"x, y, max_norm={scenario['max_norm']}), called {AMP_CALLS} times in a row on batches of 6 samples, "
            f"the first batch's targets so far off that its scaled gradients overflow; model = {_model()} in "
            f"float32{_on(scenario)}")


# --- runs -------------------------------------------------------------------------------------
@dataclass
class Run:
    calls: list[dict[str, Any]]
    error: dict[str, Any] | None

    @classmethod
    def of(cls, report: dict[str, Any]) -> Run:
        return cls(list(report["calls"]), report["error"])


def _same_returned(got: dict[str, Any], want: dict[str, Any]) -> bool:
    a, b = got["value"], want["value"]
    if got["type"] != want["type"] or (a is None) != (b is None):
        return False
    if a is None:
        return True
    if any(isinstance(v, torch.Tensor) and (v.is_complex() or v.dtype == torch.bool) for v in (a, b)):
        return False
    return compare.close(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64))


def _same_call(got: dict[str, Any], want: dict[str, Any]) -> bool:
    if got["steps"] != want["steps"] or got.get("scale") != want.get("scale"):
        return False
    if got.get("growth_tracker") != want.get("growth_tracker") or not _same_returned(got["returned"], want["returned"]):
        return False
    return all(compare.close(got["state"][name], want["state"][name]) for name in want["state"])


def _same_run(got: Run, want: Run) -> bool:
    if len(got.calls) != len(want.calls) or (got.error is None) != (want.error is None):
        return False
    if got.error and want.error and (got.error["type"], got.error["call"]) != (want.error["type"], want.error["call"]):
        return False
    return all(_same_call(a, b) for a, b in zip(got.calls, want.calls, strict=True))


def _named(t: CheckContext, driver: str, function: str, scenario: dict[str, Any], run: Run) -> Mistake | None:
    """The one catalogued mistake whose simulated run is the learner's, or None."""
    found = []
    for mistake in wrong.MISCONCEPTIONS:
        if mistake.function != function or mistake.wrong is None:
            continue
        try:
            simulated = Run.of(t.drive_here(driver, SimpleNamespace(**{function: mistake.wrong}), **scenario))
        except Exception:  # noqa: BLE001 - a simulation that cannot run explains nothing
            continue
        if _same_run(run, simulated):
            found.append(mistake)
    return found[0] if len(found) == 1 else None


def _fail(t: CheckContext, driver: str, function: str, scenario: dict[str, Any], run: Run, what: str,
          call: str, **shown: Any) -> None:
    mistake = _named(t, driver, function, scenario, run)
    t.fail(what, call=call, mistake=mistake, **shown)


def _learner_and_reference(t: CheckContext, driver: str, function: str, scenario: dict[str, Any], schema: Rule,
                           call: str) -> tuple[Run, Run]:
    run = Run.of(t.drive(driver, schema, call=call, **scenario))
    reference = Run.of(t.drive_here(driver, **scenario))
    if run.error:
        error = run.error
        where = f" at line {error['line']}" if error["line"] else ""
        first = (error["message"].splitlines() or [""])[0]
        _fail(t, driver, function, scenario, run, f"In call {error['call']}, {function} raised {error['type']}{where}: "
              f"{first}", call, got=error["where"] or None)
    return run, reference


def _after(number: int, calls: int) -> str:
    return "After the call" if calls == 1 else f"After call {number} of {calls}"


def _expect_steps_and_state(t: CheckContext, driver: str, function: str, scenario: dict[str, Any], schema: Rule,
                            call: str, notes: dict[int, str] | None = None) -> None:
    run, reference = _learner_and_reference(t, driver, function, scenario, schema, call)
    calls = len(reference.calls)
    # Without an error the schema holds exactly one report per call: as many as the reference's.
    for number, (got, want) in enumerate(zip(run.calls, reference.calls, strict=True), start=1):
        note = (notes or {}).get(number, "")
        if got["steps"] != want["steps"]:
            took = {0: "no optimizer step", 1: "one optimizer step"}.get(got["steps"], f"{got['steps']} optimizer steps")
            should = {0: "none (the step must be skipped)", 1: "exactly one"}[want["steps"]]
            _fail(t, driver, function, scenario, run, f"{_after(number, calls)}{note}, the optimizer had taken {took}; "
                  f"it should take {should}.", call, got=str(got["steps"]), expected=str(want["steps"]))
        for name, expected in want["state"].items():
            problem = compare.mismatch(got["state"][name], expected)
            if problem:
                _fail(t, driver, function, scenario, run, f"{_after(number, calls)}{note}, parameter '{name}' is not "
                      f"what the reference step gives: {problem}.", call, got=compare.show(got["state"][name]),
                      expected=compare.show(expected))
        if "scale" in want and (got["scale"], got["growth_tracker"]) != (want["scale"], want["growth_tracker"]):
            _fail(t, driver, function, scenario, run, f"{_after(number, calls)}{note}, the scaler's scale is "
                  f"{got['scale']:.6g} (good steps counted: {got['growth_tracker']}) but should be {want['scale']:.6g} "
                  f"({want['growth_tracker']}).", call, got=f"{got['scale']:.6g}", expected=f"{want['scale']:.6g}")


def _expect_returned(t: CheckContext, driver: str, function: str, scenario: dict[str, Any], schema: Rule,
                     call: str, what: str) -> None:
    run, reference = _learner_and_reference(t, driver, function, scenario, schema, call)
    calls = len(reference.calls)
    for number, (got, want) in enumerate(zip(run.calls, reference.calls, strict=True), start=1):
        returned, expected = got["returned"], want["returned"]["value"]
        if isinstance(returned["value"], torch.Tensor):
            graph = " that still carries the forward pass's graph" if returned["requires_grad"] else ""
            _fail(t, driver, function, scenario, run, f"{function} returned a torch.Tensor{graph}; it should return "
                  "a Python float.", call, got=f"{returned['type']} {compare.show(returned['value'])}",
                  expected=compare.show(expected))
        if not returned["is_float"]:
            shown = "None (is the `return` missing?)" if returned["type"] == "NoneType" else f"a {returned['type']}"
            _fail(t, driver, function, scenario, run, f"{function} returned {shown}; it should return {what} as a "
                  "Python float.", call, expected=compare.show(expected))
        if not _same_returned(returned, want["returned"]):
            _fail(t, driver, function, scenario, run, f"{_after(number, calls)}, {function} returned a number that "
                  f"is not {what}.", call, got=compare.show(returned["value"]), expected=compare.show(expected))


# --- accumulated_step ---------------------------------------------------------------------------
ACCUMULATION_HINT = ("Zero the gradients once, before the loop; in the loop, (loss / len(micro_batches)).backward(); "
                     "after it, one optimizer.step().")


@checks.add(f"one accumulated_step over {MICRO_BATCHES} micro-batches takes one SGD step (lr 0.5, momentum 0.9) "
            "that moves every parameter as one step on the whole batch would", devices=True, hint=ACCUMULATION_HINT)
def accumulates_like_one_batch(t: CheckContext) -> None:
    scenario = _accumulation(t, calls=1)
    _expect_steps_and_state(t, "accumulation", "accumulated_step", scenario, _schema(torch.float64, 1, scaler=False),
                            _describe_accumulation(scenario))


@checks.add("two accumulated_step calls in a row follow two reference steps: each call starts from cleared "
            "gradients", devices=True, hint="backward() adds to .grad, the previous call's gradient included: "
            "clear it once per call, before the first micro-batch.")
def calls_in_a_row(t: CheckContext) -> None:
    scenario = _accumulation(t, calls=2)
    _expect_steps_and_state(t, "accumulation", "accumulated_step", scenario, _schema(torch.float64, 2, scaler=False),
                            _describe_accumulation(scenario))


@checks.add("accumulated_step returns the mean of the micro-batches' losses before the update (the whole batch's "
            "loss), as a Python float", devices=True,
            hint="Add up loss.item() of each micro-batch (before dividing) and return the total over their count.")
def accumulation_returns_mean_loss(t: CheckContext) -> None:
    scenario = _accumulation(t, calls=1)
    _expect_returned(t, "accumulation", "accumulated_step", scenario, _schema(torch.float64, 1, scaler=False),
                     _describe_accumulation(scenario), "the mean of the micro-batches' losses")


# --- amp_step ---------------------------------------------------------------------------------------
AMP_HINT = ("optimizer.zero_grad(); the forward pass and the loss under torch.autocast(x.device.type, dtype); "
            "scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update().")
OVERFLOW = {1: " (whose scaled gradients overflow)"}


@checks.add(f"{AMP_CALLS} amp_step calls follow the reference: the step whose scaled gradients overflow is skipped "
            "and the scale halved, the others step and the scale grows after 2 good steps", devices=True,
            hint=AMP_HINT)
def scaler_steps_and_skips(t: CheckContext) -> None:
    scenario = _mixed_precision(t, max_norm=None)
    _expect_steps_and_state(t, "mixed_precision", "amp_step", scenario, _schema(torch.float32, AMP_CALLS, scaler=True),
                            _describe_amp(scenario), OVERFLOW)


@checks.add("amp_step with max_norm clips the unscaled gradients to that total norm", devices=True,
            hint="scaler.unscale_(optimizer) before torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm); "
                 "scaler.step() then knows the gradients are unscaled.")
def clips_unscaled_gradients(t: CheckContext) -> None:
    scenario = _mixed_precision(t, max_norm=0.1)
    _expect_steps_and_state(t, "mixed_precision", "amp_step", scenario, _schema(torch.float32, AMP_CALLS, scaler=True),
                            _describe_amp(scenario), OVERFLOW)


@checks.add("amp_step returns the batch's loss before the update, unscaled, as a Python float", devices=True,
            hint="Return loss.item() of the loss itself, not of scaler.scale(loss).")
def amp_returns_loss(t: CheckContext) -> None:
    scenario = _mixed_precision(t, max_norm=None)
    _expect_returned(t, "mixed_precision", "amp_step", scenario, _schema(torch.float32, AMP_CALLS, scaler=True),
                     _describe_amp(scenario), "the batch's unscaled loss before the update")

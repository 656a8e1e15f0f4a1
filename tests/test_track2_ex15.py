"""Exercise 15 (gradient accumulation and mixed precision) and course drivers: a course
folder's `drivers/<module>.py`, sent to the sandbox and run beside learner code, whose
reports the check validates against the schema it states."""
from __future__ import annotations

import json
import textwrap
import types
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from lossgrade import course, misconceptions
from lossgrade.course import catalog
from lossgrade.grading import selfcheck
from lossgrade.grading.grader import Grader
from lossgrade.grading.files import Files
from lossgrade.cli.main import cli
from lossgrade.core.results import Outcome, Status
from lossgrade.sandbox.inprocess import InProcessLearner

EX15 = "ex15_train_at_scale"


def _in_process(module: object) -> object:
    exercise = catalog.resolve("ex15")
    return Grader(course.current()).run_checks(exercise, InProcessLearner(module, exercise.functions, selfcheck.in_process_drivers(course.current(), exercise)))


# --- ex15 ---------------------------------------------------------------------------------------
def test_stub_is_not_started_and_solution_passes_in_the_sandbox(sandbox):
    exercise = catalog.resolve("ex15")
    stub = Grader(course.current(), sandbox).grade(exercise, Files.in_folder(exercise.stub_path.parent, exercise))
    assert {c.outcome for c in stub.checks} <= {Outcome.NOT_STARTED, Outcome.SKIPPED}
    assert any(c.outcome is Outcome.NOT_STARTED for c in stub.checks)
    solution = Grader(course.current(), sandbox).grade(exercise, Files.in_folder(exercise.solution_path.parent, exercise))
    assert solution.status is Status.PASSED, [c.feedback for c in solution.checks if c.outcome is Outcome.FAILED]
    assert sum(c.outcome is Outcome.PASSED for c in solution.checks) >= 6


@pytest.mark.parametrize("mistake", misconceptions.catalogue(EX15), ids=lambda m: m.id)
def test_every_mistake_fails_and_is_named_alone(mistake):
    result = selfcheck.grade_mistake(catalog.resolve("ex15"), mistake.function, mistake.wrong)
    named = {c.misconception.id for c in result.checks if c.misconception}
    assert result.status is not Status.PASSED and named == {mistake.id}


def test_reference_accumulation_equals_one_step_on_the_whole_batch():
    reference = Grader(course.current()).reference(catalog.resolve("ex15"))
    torch.manual_seed(0)
    x, y = torch.randn(12, 4, dtype=torch.float64), torch.randn(12, 3, dtype=torch.float64)
    models = [torch.nn.Linear(4, 3).double() for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.5, momentum=0.9) for m in models]
    value = reference.accumulated_step(models[0], torch.nn.MSELoss(), optimizers[0],
                                       [(x[i:i + 3], y[i:i + 3]) for i in range(0, 12, 3)])
    optimizers[1].zero_grad()
    whole = torch.nn.functional.mse_loss(models[1](x), y)
    whole.backward()
    optimizers[1].step()
    assert value == pytest.approx(whole.item())
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        torch.testing.assert_close(a, b)


def test_backward_inside_autocast_and_grads_divided_after_the_loop_pass():
    module = types.ModuleType("unusual")
    exec(compile((Path(__file__).parent / "corpus" / "ex15" / "correct" /
                  "grad_divided_after_loop__backward_inside_autocast.py").read_text(), "unusual", "exec"), module.__dict__)
    assert _in_process(module).status is Status.PASSED


def test_the_driver_report_schema_refuses_forgeries():
    from lossgrade.checks import ex15_train_at_scale as checks
    from lossgrade.sandbox import replies

    exercise = catalog.resolve("ex15")
    drivers = course.current().drivers(exercise.module)
    reference = Grader(course.current()).reference(exercise)
    state = {name: torch.randn(shape, dtype=torch.float64) for name, shape in checks._parameters(torch.float64).items()}
    rounds = [[(torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64)) for _ in range(4)]]
    report = drivers["accumulation"](reference, model_spec={"layers": checks.LAYERS, "dtype": "float64"},
                                     state_dict=state, optimizer_spec=checks.SGD, rounds=rounds)
    schema = checks._schema(torch.float64, 1, scaler=False)
    assert replies.misfit(report, schema) is None
    call = report["calls"][0]
    forgeries = {
        "no calls": {**report, "calls": []},
        "a call more": {**report, "calls": report["calls"] * 2},
        "no parameters": {**report, "calls": [{**call, "state": {}}]},
        "a broadcastable parameter": {**report, "calls": [{**call, "state": {**call["state"], "0.bias": torch.zeros(1)}}]},
        "float32 parameters": {**report, "calls": [{**call, "state": {k: v.float() for k, v in call["state"].items()}}]},
        "steps as a bool": {**report, "calls": [{**call, "steps": True}]},
        "an error in a call that was made": {**report, "error": {"type": "E", "message": "", "line": None, "where": "",
                                                                  "call": 1}},
        "an extra key": {**report, "verdict": "passed"},
    }
    for what, forged in forgeries.items():
        assert replies.misfit(forged, schema) is not None, what


# --- drivers in an instructor's course folder, through the real CLI --------------------------------
DRIVER = '''
import torch

def run(module, weight, bias):
    model = torch.nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.copy_(weight)
        model.bias.copy_(bias)
    out = module.halve_weights(model)
    return {"weight": model.weight.detach().clone(), "bias": model.bias.detach().clone(),
            "returned": out if isinstance(out, int) and not isinstance(out, bool) else -1}

DRIVERS = {"run": run}
'''
CHECKS = '''
import torch

from lossgrade.checks import compare
from lossgrade.checks.framework import CheckContext, Checks, TensorOf

checks = Checks("ex41_halve")
REPORT = {"weight": TensorOf((2, 3), torch.float32), "bias": TensorOf((2,), torch.float32), "returned": int}


@checks.add("halve_weights halves every parameter in place and returns how many it changed")
def halves(t: CheckContext) -> None:
    params = {"weight": t.randn(2, 3), "bias": t.randn(2)}
    got = t.drive("run", REPORT, call="halve_weights(nn.Linear(3, 2))", **params)
    want = t.drive_here("run", **params)
    for name in ("weight", "bias"):
        problem = compare.mismatch(got[name], want[name])
        if problem:
            t.fail(f"'{name}' is wrong after the call: {problem}", mistake="ex41.forgot-bias" if name == "bias" else None)
    if got["returned"] != want["returned"]:
        t.fail(f"returned {got['returned']}, not {want['returned']}")
'''
MISTAKES = '''
import torch

from lossgrade.misconceptions import Mistake


def forgot_bias(model):
    with torch.no_grad():
        model.weight.mul_(0.5)
    return 2


MISCONCEPTIONS = [Mistake(id="ex41.forgot-bias", function="halve_weights", wrong=forgot_bias,
                          name="Halved the weight but not the bias", message="Every parameter: loop over "
                          "model.parameters().", quiz=None)]
'''
SOLUTION = '''
import torch


def halve_weights(model):
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
    return 2
'''
STUB = '''"""Exercise 41: halve every parameter of a model, in place."""


def halve_weights(model):
    """Multiply every parameter by 0.5 in place; return how many parameters there are."""
    raise NotImplementedError("ex41: halve_weights is not written yet")
'''
INFO = '''format: 1
exercises:
  - id: ex41
    name: halve
    title: Halve a model's parameters
    file: ex41_halve.py
    functions: [halve_weights]
    points: 4
'''
HOSTILE = '''
import sys

_drivers = sys.modules["_worker"].DRIVERS
_drivers["ex41_halve/run"] = lambda module, **params: {"weight": torch.zeros(1), "bias": torch.zeros(1), "returned": 2}
import torch


def halve_weights(model):
    return 2
'''


@pytest.fixture
def driver_course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    for folder, text in {"exercises/info.yaml": INFO, "exercises/ex41_halve.py": STUB, "solutions/ex41_halve.py": SOLUTION,
                         "checks/ex41_halve.py": CHECKS, "misconceptions/ex41_halve.py": MISTAKES,
                         "drivers/ex41_halve.py": DRIVER}.items():
        (root / folder).parent.mkdir(parents=True, exist_ok=True)
        (root / folder).write_text(textwrap.dedent(text).lstrip())
    return root


def test_a_course_folder_checks_its_own_driver_exercise(driver_course: Path):
    result = CliRunner().invoke(cli, ["course", "check", str(driver_course)])
    assert result.exit_code == 0, result.output
    assert "misconceptions caught and named: 1/1" in result.output and "0 problem(s)" in result.output


def test_learners_are_graded_through_a_course_folders_driver(driver_course: Path, tmp_path: Path):
    work = tmp_path / "work"
    runner_ = CliRunner()
    assert runner_.invoke(cli, ["--course", str(driver_course), "init", str(work)]).exit_code == 0
    (work / "ex41_halve.py").write_text("import torch\n\n\ndef halve_weights(model):\n"
                                        "    model.weight.data *= 0.5\n    return 2\n")
    result = runner_.invoke(cli, ["--course", str(driver_course), "check", "ex41", "--json", "-w", str(work)])
    assert result.exit_code == 1, result.output
    [exercise] = json.loads(result.output)
    assert [m["id"] for m in exercise["misconceptions"]] == ["ex41.forgot-bias"]

    klass = tmp_path / "class"
    for learner, text in {"ada": SOLUTION, "bob": STUB, "eve": HOSTILE}.items():
        (klass / learner).mkdir(parents=True)
        (klass / learner / "ex41_halve.py").write_text(textwrap.dedent(text).lstrip())
    out = tmp_path / "results"
    graded = runner_.invoke(cli, ["--course", str(driver_course), "grade", str(klass), "--out", str(out), "-e", "ex41",
                                  "--jobs", "1"])
    assert graded.exit_code == 0, graded.output
    records = {r["learner"]: r for r in json.loads((out / "gradebook.json").read_text())["records"]}
    assert records["ada"]["score"] == 4 and records["ada"]["status"] == "passed"
    assert records["bob"]["score"] == 0 and records["bob"]["status"] == "not started"
    assert records["eve"]["score"] == 0


def test_a_learner_who_rewrites_a_course_driver_gets_an_unsafe_report_not_a_grade(driver_course: Path):
    """Behind the scan (which refuses `sys.modules` already): the forged report does not fit
    the schema the check states, so the check fails on it, saying so."""
    from lossgrade.grading import service

    within = course.Course.load(driver_course)
    with course.using(within), service.open_sandbox(within=within) as box:
        exercise = within.exercise("ex41")
        result = Grader(course.current(), box).grade(exercise, {"ex41_halve.py": textwrap.dedent(HOSTILE).lstrip()}, scanned=False)
    [check] = result.checks
    assert result.score == 0 and check.outcome is Outcome.FAILED
    assert "does not fit what the grader asked for" in check.feedback.message
    assert "has shape (1,), not (2, 3)" in check.feedback.message


def test_course_drivers_are_found_for_built_in_and_folder_exercises_and_hidden(driver_course: Path):
    within = course.Course.load(driver_course)
    assert within.drivers_path(within.exercise("ex41")) == driver_course.resolve() / "drivers" / "ex41_halve.py"
    assert within.drivers_path(within.exercise("ex15")) == course.course_root() / "drivers" / "ex15_train_at_scale.py"
    assert within.drivers_path(within.exercise("ex01")) is None
    assert set(within.driver_sources()) == {"ex15_train_at_scale", "ex41_halve"}
    assert driver_course.resolve() / "drivers" in within.hidden_paths()
    with pytest.raises(Exception, match="ex01_mse has no drivers"):
        within.drivers("ex01_mse")


def test_past_the_scan_reports_forged_to_fit_the_schemas_still_fail_every_check(sandbox):
    """The hostile case rewrites ex15's course drivers in the worker to send reports that fit
    every schema (names, shapes, dtypes, one entry per call): the values, which the grader
    computes itself, give it away."""
    exercise = catalog.resolve("ex15")
    source = (Path(__file__).parent / "redteam" / "cases" / "forged_course_driver_reports.py").read_text()
    result = Grader(course.current(), sandbox).grade(exercise, {exercise.file: source}, scanned=False)
    counted = [c for c in result.checks if c.outcome is not Outcome.SKIPPED]
    assert result.score == 0 and counted and all(c.outcome is Outcome.FAILED for c in counted)
    assert not any("does not fit" in c.feedback.message for c in counted)  # they fit: the values fail them


def test_a_drivers_file_that_does_not_load_is_a_problem_with_its_file_and_line(driver_course: Path):
    (driver_course / "drivers" / "ex41_halve.py").write_text("import torch\n\ndef run(module:\n")
    result = CliRunner().invoke(cli, ["course", "check", str(driver_course)])
    assert result.exit_code != 0
    assert f"{driver_course.resolve() / 'drivers' / 'ex41_halve.py'}:3: the drivers file does not load: SyntaxError" \
        in result.output

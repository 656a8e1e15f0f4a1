"""Red team, issue 15 classes 1, 2, 5 and 8 (CSV): what a worker reports, hidden inputs, the
grader's machinery, and gradebook.csv.

- Replies that do not fit what was asked (`cases/replies_*`: no gradients, a (0, 1, 1)
  gradient, a training run with no steps, snapshots of a model with no parameters) fail
  the checks that read them, saying so, even where the source scan is stepped around.
- Held-out answers and every seeded input come from the grading secret: a submission that
  regenerates them from public facts passes only without one.
- The three-statement switch-off of the from-scratch rule is refused by the source scan,
  with its line; past the scan, the worker's guards report it and every check fails.
- Each case gets its grade through `check`, `grade` and `grade --strong`, and a good
  submission beside it gets exactly its results alone.
- gradebook.csv quotes ids that a spreadsheet would read as formulas; the JSON keeps them.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.checks import compare, secret
from lossgrade.checks.framework import Check, CheckContext, Checked
from lossgrade.core.results import ExerciseResult, Outcome
from lossgrade.sandbox import replies, scan
from lossgrade.sandbox.client import Limits, Sandbox
from lossgrade.sandbox.inprocess import InProcessLearner
from lossgrade.sandbox.learner import LearnerModule, call_request
from lossgrade.sandbox.replies import Reply

from .conftest import SOLUTIONS, signature

CASES = Path(__file__).with_name("cases")
REPLIES = {path.stem: path for path in sorted(CASES.glob("replies_*.py"))}
EXERCISE = {"replies_empty_gradients": "ex01", "replies_broadcast_gradient": "ex09",
            "replies_forged_driver_reports": "ex07", "replies_switch_off_the_rule": "ex03",
            "replies_lookup_table": "ex08"}
SCANNED = [name for name in EXERCISE if name != "replies_lookup_table"]
NOT_FIT = "does not fit what the grader asked for"


def test_every_replies_case_is_declared():
    assert set(REPLIES) == set(EXERCISE)
    for name, path in REPLIES.items():
        assert f"exercise={EXERCISE[name]} score=0" in path.read_text().splitlines()[0]


def _past_the_scan(sandbox: Sandbox, name: str) -> ExerciseResult:
    """Grade a case as runner.grade_exercise would, but without the source scan: what the
    second line of defence (reply validation, the worker's guards) does alone."""
    exercise = catalog.resolve(EXERCISE[name])
    return runner.grade_exercise(sandbox, exercise, {exercise.file: REPLIES[name].read_text()}, Limits(call_seconds=5),
                                 scanned=False)


def _outcomes(result: ExerciseResult) -> dict[str, tuple[Outcome, str]]:
    return {c.id: (c.outcome, c.feedback.message if c.feedback else "") for c in result.checks}


# --- class 5: the source scan -------------------------------------------------------------------
@pytest.mark.parametrize("name", SCANNED)
def test_the_scan_refuses_code_that_reaches_for_the_grader_naming_the_line(name, sandbox, good):
    exercise = catalog.resolve(EXERCISE[name])
    baseline = good.baseline(exercise)
    result = runner.grade_exercise(sandbox, exercise, {exercise.file: REPLIES[name].read_text()})
    assert result.score == 0.0
    refusal = scan.scan({exercise.file: REPLIES[name].read_text()})
    assert refusal is not None
    assert all(c.outcome is Outcome.FAILED and f"line {refusal.line} of {exercise.file}" in c.feedback.message
               for c in result.checks), _outcomes(result)
    assert good.grade(exercise) == baseline


def test_past_the_scan_the_guards_report_the_switched_off_rule(sandbox):
    result = _past_the_scan(sandbox, "replies_switch_off_the_rule")
    assert result.score == 0.0
    counted = [c for c in result.checks if c.outcome is not Outcome.SKIPPED]
    # Since round 3 the worker's own objects are frozen out of the collector's lists
    # (gc.freeze), so gc.get_objects() does not even find the guards: the import fails.
    assert counted and all("tampered with the grader's machinery" in c.feedback.message
                           or "NameError" in c.feedback.message and "_guards" in c.feedback.message for c in counted)


# --- class 1: replies against requests ------------------------------------------------------------
def test_past_the_scan_an_empty_gradient_list_fails_every_gradient_check(sandbox):
    result = _past_the_scan(sandbox, "replies_empty_gradients")
    outcome, message = _outcomes(result)["ex01_mse.gradients[cpu]"]
    assert outcome is Outcome.FAILED and "0 gradients for the 2 input(s) asked for" in message


def test_past_the_scan_a_broadcastable_gradient_fails_the_gradcheck(sandbox):
    result = _past_the_scan(sandbox, "replies_broadcast_gradient")
    for check in ("ex09_custom.function_gradcheck", "ex09_custom.function_backward[cpu]"):
        outcome, message = _outcomes(result)[check]
        assert outcome is Outcome.FAILED and NOT_FIT in message and "(0, 1, 1)" in message


def test_past_the_scan_forged_driver_reports_fail_every_check(sandbox):
    result = _past_the_scan(sandbox, "replies_forged_driver_reports")
    assert result.score == 0.0
    counted = [c for c in result.checks if c.outcome is not Outcome.SKIPPED]
    assert counted and all(NOT_FIT in c.feedback.message for c in counted), _outcomes(result)


# --- class 2: hidden inputs -----------------------------------------------------------------------
def _ex08_inprocess(chosen: bytes | None) -> ExerciseResult:
    """The lookup-table case graded in-process (our test reads it as a module) under a
    chosen secret, or none (public seeds)."""
    namespace: dict[str, Any] = {"__name__": "lookup"}
    exec(compile(REPLIES["replies_lookup_table"].read_text(), "lookup.py", "exec"), namespace)  # noqa: S102
    module = type(sys)("lookup")
    module.__dict__.update(namespace)
    exercise = catalog.resolve("ex08")
    before = secret._secret
    try:
        secret._secret = chosen
        return runner.run_checks(exercise, InProcessLearner(module, exercise.functions))
    finally:
        secret._secret = before


def test_held_out_answers_regenerated_from_public_facts_miss_under_a_secret():
    public = _ex08_inprocess(None)
    assert public.score == public.max_score, "the case no longer regenerates the public held-out set"
    hidden = _ex08_inprocess(os.urandom(32))
    assert hidden.score == 0.0, _outcomes(hidden)


def test_the_same_secret_gives_the_same_inputs_and_another_other_inputs():
    check = Check("ex01_mse.anything", "", lambda t: None, False, None, 1.0)
    drawn = {}
    before = secret._secret
    try:
        for name, key in (("a", b"a" * 32), ("a again", b"a" * 32), ("b", b"b" * 32), ("public", None)):
            secret._secret = key
            context = CheckContext(check, InProcessLearner(sys, ()), sys, "cpu")
            drawn[name] = (context.randn(5), context.hidden_rng("answers").initial_seed())
    finally:
        secret._secret = before
    assert torch.equal(drawn["a"][0], drawn["a again"][0]) and drawn["a"][1] == drawn["a again"][1]
    assert not torch.equal(drawn["a"][0], drawn["b"][0]) and drawn["a"][1] != drawn["b"][1]
    assert not torch.equal(drawn["a"][0], drawn["public"][0])
    assert drawn["a"][1] != torch.Generator().manual_seed(secret.seed("ex01_mse.anything")).initial_seed()


def test_learner_code_is_never_graded_on_public_seeds():
    assert secret.current() is None or secret._secret is not None
    with secret.learner_code():
        assert secret.current() is not None


def test_secret_files_are_made_once_private_and_refused_when_not_ours(tmp_path):
    made = secret.load_or_create_secret(tmp_path / "out" / secret.SECRET_FILE)
    assert made == secret.load_or_create_secret(tmp_path / "out" / secret.SECRET_FILE) and len(made) == 32
    assert (tmp_path / "out" / secret.SECRET_FILE).stat().st_mode & 0o077 == 0
    (tmp_path / "bad").write_text("not hex\n")
    with pytest.raises(Exception, match="not a grading secret"):
        secret.load_or_create_secret(tmp_path / "bad")


# --- every case through `check`, `grade` and `grade --strong` -------------------------------------
CHECKED = [(name, False) for name in sorted(EXERCISE)] + [("replies_lookup_table", True),
                                                          ("replies_switch_off_the_rule", True)]


@pytest.mark.parametrize("name, strong", CHECKED, ids=[f"{n}{'-strong' if s else ''}" for n, s in CHECKED])
def test_lossgrade_check_gives_each_case_zero(name, strong, tmp_path):
    if strong:
        from lossgrade.sandbox import strong as strong_mode

        usable, why = strong_mode.available()
        if not usable:
            pytest.skip(why)
    exercise = catalog.resolve(EXERCISE[name])
    (tmp_path / exercise.file).write_text(REPLIES[name].read_text())
    done = subprocess.run([sys.executable, "-m", "lossgrade", "check", exercise.id, "-w", str(tmp_path), "--json",
                           *(["--strong"] if strong else [])],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert [(r["exercise"], r["score"]) for r in json.loads(done.stdout)] == [(exercise.id, 0.0)]
    assert (tmp_path / ".lossgrade" / secret.SECRET_FILE).is_file()  # the workspace's own secret


def _grade_class(tmp_path: Path, strong: bool) -> tuple[dict[str, dict[str, float]], Path]:
    from lossgrade.grading import grade

    root = tmp_path / "class"
    for name, exercise_id in EXERCISE.items():
        exercise = catalog.resolve(exercise_id)
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / exercise.file).write_text(REPLIES[name].read_text())
    good = root / "good"
    good.mkdir()
    for exercise_id in ("ex01", "ex03", "ex09"):
        exercise = catalog.resolve(exercise_id)
        (good / exercise.file).write_text((SOLUTIONS / exercise.file).read_text())
    out = tmp_path / "results"
    batch = grade.grade_class(root, out, jobs=2, chosen=["ex01", "ex03", "ex07", "ex08", "ex09"], strong=strong)
    assert not batch.grader_failed, batch.problems
    return {r.learner: {e.exercise: e.score for e in r.result.exercises} for r in batch.records}, out


@pytest.mark.parametrize("strong", [False, True], ids=["default", "strong"])
def test_lossgrade_grade_gives_each_case_zero_and_the_good_one_its_marks(strong, tmp_path):
    if strong:
        from lossgrade.sandbox import strong as strong_mode

        usable, why = strong_mode.available()
        if not usable:
            pytest.skip(why)
    scores, out = _grade_class(tmp_path, strong)
    for name, exercise_id in EXERCISE.items():
        assert scores[name][exercise_id] == 0.0, (name, scores[name])
    for exercise_id in ("ex01", "ex03", "ex09"):
        assert scores["good"][exercise_id] == catalog.resolve(exercise_id).points
    assert (out / secret.SECRET_FILE).is_file()


# --- class 8: gradebook.csv ------------------------------------------------------------------------
FORMULAS = ["=HYPERLINK(\"x\")", "=cmd|' -c calc'!A0", "+1+1", "-2+3", "@SUM(A1)"]


def test_gradebook_csv_quotes_ids_a_spreadsheet_would_run_and_the_json_keeps_them(tmp_path):
    from lossgrade.grading import grade

    root = tmp_path / "class"
    source = (SOLUTIONS / "ex01_mse.py").read_text()
    for learner in [*FORMULAS, "plain"]:
        (root / learner).mkdir(parents=True)
        (root / learner / "ex01_mse.py").write_text(source)
    out = tmp_path / "results"
    batch = grade.grade_class(root, out, jobs=1, chosen=["ex01"])
    from lossgrade.output import gradebook

    text = gradebook.to_csv(batch.records, batch.exercises)
    rows = {row[0]: row for row in csv.reader(io.StringIO(text))}
    for learner in FORMULAS:
        assert "'" + learner in rows, sorted(rows)
        assert learner not in rows
    assert "plain" in rows
    learners = json.loads(gradebook.to_json(batch.records, batch.exercises))
    assert set(FORMULAS) <= {entry["learner"] for entry in _learner_entries(learners)}
    assert gradebook._cell("\tx") == "'\tx" and gradebook._cell("\rx") == "'\rx" and gradebook._cell("x=1") == "x=1"


def _learner_entries(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        found = [data] if "learner" in data else []
        return found + [e for v in data.values() for e in _learner_entries(v)]
    if isinstance(data, list):
        return [e for v in data for e in _learner_entries(v)]
    return []


# --- unit tests: replies against requests ----------------------------------------------------------
def _tensor_reply(**fields: Any) -> Reply:
    return Reply(kind="tensor", value=torch.zeros(()), **{"device": "cpu", **fields})


ARGS = [torch.zeros(5, 4), torch.zeros(5, dtype=torch.long)]


@pytest.mark.parametrize("grads, why", [
    ([], "0 gradients for the 1 input(s)"),
    ([torch.zeros(5, 4), torch.zeros(5, 4)], "2 gradients for the 1 input(s)"),
    ([torch.zeros(0, 1, 1)], "has shape (0, 1, 1), not (5, 4)"),
    ([torch.zeros(1)], "has shape (1,), not (5, 4)"),
    ([torch.zeros(5, 4, dtype=torch.float64)], "float64, not torch.float32"),
    ([1.0], "is a float, not a tensor"),
    ({"0": torch.zeros(5, 4)}, "a dict gradients"),
])
def test_gradients_that_do_not_fit_the_request_are_refused(grads, why):
    reply = replies.fit_call(_tensor_reply(grads=grads), call_request("f", ARGS, {}, grad_wrt=(0,)))
    assert reply.kind == "unsafe" and why in reply.message, reply.message


def test_gradients_that_fit_pass_and_so_do_replies_without_gradients():
    request = call_request("f", ARGS, {}, grad_wrt=(0,))
    for grads in ([torch.ones(5, 4)], [None], "the result is not connected to the inputs' autograd graph"):
        assert replies.fit_call(_tensor_reply(grads=grads), request).kind == "tensor"
    assert replies.fit_call(_tensor_reply(), call_request("f", ARGS, {})).kind == "tensor"
    assert replies.fit_call(Reply(kind="raised", error_type="ValueError"), request).kind == "raised"
    for bad in (_tensor_reply(grads=[torch.ones(5, 4)]), Reply(kind="value", value={}), Reply(kind="loaded"),
                _tensor_reply(device="../../etc")):
        assert replies.fit_call(bad, call_request("f", ARGS, {})).kind == "unsafe"


def _report(driver: str, params: dict[str, Any]) -> Any:
    from lossgrade.sandbox import _drivers

    return _drivers.DRIVERS[driver](sys.modules["lossgrade.solutions_for_test"], **params)


@pytest.fixture(scope="module")
def ex07_reference() -> Any:
    reference = runner.reference(catalog.resolve("ex07"))
    sys.modules["lossgrade.solutions_for_test"] = reference
    yield reference
    del sys.modules["lossgrade.solutions_for_test"]


def _ex07_params(calls: int) -> dict[str, Any]:
    from lossgrade.checks import ex07_train_step as ex07

    spec = ex07.MLP
    from lossgrade.sandbox import _drivers

    state = {k: torch.randn(v.shape, dtype=v.dtype) for k, v in _drivers.build_model(spec).state_dict().items()}
    batches = [(torch.randn(6, 4, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)) for _ in range(calls)]
    return {"model_spec": spec, "state_dict": state, "optimizer_spec": ex07.SGD, "batches": batches, "loss": "mse"}


def test_a_true_train_steps_report_fits_and_every_forgery_of_it_does_not(ex07_reference):
    params = _ex07_params(3)
    schema = replies.report_schema("train_steps", params)
    report = _report("train_steps", params)
    assert replies.misfit(report, schema) is None
    forgeries = {
        "no steps": {**report, "steps": []},
        "a step short": {**report, "steps": report["steps"][:2]},
        "a step more": {**report, "steps": report["steps"] + report["steps"][:1]},
        "no parameters": {**report, "steps": [{**s, "state": {}} for s in report["steps"]]},
        "a parameter of another shape": {**report, "steps": [
            {**s, "state": {**s["state"], "0.weight": torch.zeros(1)}} for s in report["steps"]]},
        "an error in a call that made a step": {**report, "error": {"type": "E", "message": "", "line": None,
                                                                     "where": "", "call": 2}},
        "an extra key": {**report, "optimizer_state": {}},
        "modes of no module": {**report, "steps": [{**s, "modes": []} for s in report["steps"]]},
    }
    for what, forged in forgeries.items():
        assert replies.misfit(forged, schema) is not None, what


def test_checked_learner_refuses_replies_in_the_wrong_number():
    class Short:
        def call_many(self, calls: list[dict[str, Any]], timeout: float | None = None) -> list[Reply]:
            return []

    got = Checked(Short()).call_many([call_request("f", ARGS, {})])  # type: ignore[arg-type]
    assert [r.kind for r in got] == ["unsafe"]


def test_comparisons_never_broadcast():
    assert not compare.within(torch.zeros(0, 1, 1), torch.zeros(3, 4), rtol=1e-3, atol=1e-5)
    assert not compare.within(torch.zeros(1), torch.zeros(3), rtol=1e-3, atol=1e-5)
    assert not compare.close(torch.zeros(3, 1), torch.zeros(3))
    assert compare.mismatch(torch.zeros(0, 1, 1), torch.zeros(3, 4)) is not None
    assert compare.within(torch.ones(3), torch.ones(3), rtol=1e-3, atol=1e-5)


# --- unit tests: the scan ------------------------------------------------------------------------
ALLOWED = [
    "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nimport math\nfrom typing import Optional",
    "import math\nimport os\nimport sys\nEPS = sys.float_info.epsilon\nprint('x', file=sys.stderr)",
    "import torch\ntorch.backends.cudnn.deterministic = True\ntorch.manual_seed(0)",
    ("import torch\nclass Focal(torch.nn.modules.loss._Loss):\n    def forward(self, x):\n        self._cache = x\n"
     "        return x\n"),
    ("import torch\nm = torch.nn.Linear(2, 3)\nfor layer in m.modules():\n    pass\nsetattr(m, 'flag', 1)\n"
     "w = getattr(m, 'weight')\nprint(type(m).__name__, m.__class__.__name__)"),
    "def f(x):\n    return {'mean': x.mean, 'sum': x.sum}['mean']()\nsquares = [v * v for v in range(3)]",
    "import torch\nx = torch.zeros(3)\nx[0] = 1.0\nx.data[:] = 0",
    "from typing import Optional\nimport torch\ndef f(x: Optional['torch.Tensor']) -> 'torch.Tensor':\n    return x",
    "import torch\nfrom torch import nn\nLinear = nn.Linear\nd = torch.float64\nm = Linear(2, 3).to(d)",
]
REFUSED = {
    "import gc": 1, "import sys\n\nsys.modules['x']": 3, "import sys as s\ny = s": 2, "import torch\ntorch._C": 2,
    "getattr(object, name)": 1, "eval('1')": 1, "f.__globals__": 1, "import torch\ntorch.allclose = max": 2,
    "import torch\ntorch.sys.modules": 2, "from torch import _C": 1, "import torch.library": 1,
    "from sys import modules": 1, "().__class__.__bases__[0].__subclasses__()": 1, "x.__class__ = int": 1,
    "vars(x)": 1, "import ctypes": 1, "import torch\ntorch.library.Library('aten', 'IMPL')": 2,
    "g = (e for e in [])\ng.gi_frame.f_back": 2, "import inspect": 1, "import lossgrade": 1,
    "from solutions import ex01_mse": 1, "import importlib": 1, "__import__('gc')": 1, "import pickle": 1,
    "x = 1\nimport torch.nn.functional as F\nF.cross_entropy = None or F.nll_loss": 3,
    "exec('import gc')": 1, "import torch\ntorch.ops.aten._log_softmax.default.py_impl": 2,
    "import torch\ndef f(m):\n    m.Tensor = int\nf(torch)": 4, "import torch\nt = torch": 2,
    "import torch.nn.functional as F\nx = F.torch": 2, "import sys\nsys.path.insert(0, 'elsewhere')": 2,
    "import runpy": 1, "import pkgutil": 1, "def f(x: \"__import__('gc')\"):\n    pass": 1,
    "from typing import get_type_hints": 1, "f.__annotations__ = {}": 1,
}
UNKNOWN = {"import numpy_helpers": 1, "import torch\n\nimport written_at_run_time": 3, "from ex03_cross_entropy import x": 1}


@pytest.mark.parametrize("source, line", UNKNOWN.items())
def test_a_module_neither_installed_nor_handed_in_is_not_imported(source, line):
    refusal = scan.scan({"ex05_targets.py": source})
    assert refusal is not None and refusal.unknown and refusal.line == line
    assert "ex05_targets.py could not be imported: ModuleNotFoundError" in refusal.message
    assert scan.scan({"ex05_targets.py": "from ex03_cross_entropy import x", "ex03_cross_entropy.py": ""}) is None
    # Verdicts are kept per file, and by the files handed in beside it: alone again, refused again.
    assert scan.scan({"ex05_targets.py": source}) == refusal


@pytest.mark.parametrize("source", ALLOWED)
def test_the_scan_leaves_ordinary_code_alone(source):
    assert scan.scan({"ex01_mse.py": source}) is None


@pytest.mark.parametrize("source, line", REFUSED.items(), ids=list(range(len(REFUSED))))
def test_the_scan_refuses_with_the_line(source, line):
    refusal = scan.scan({"ex01_mse.py": source})
    assert refusal is not None and refusal.line == line, refusal
    assert "not run" in refusal.message and f"line {line} of ex01_mse.py" in refusal.message


def test_the_scan_passes_every_solution_stub_sample_and_generated_submission(tmp_path):
    repo = SOLUTIONS.parent
    files = [*repo.glob("solutions/*.py"), *repo.glob("exercises/*.py"), *repo.glob("examples/sample-class/*/*.py"),
             *repo.glob("grader/course_template/solutions/*.py"), *repo.glob("grader/course_template/exercises/*.py")]
    assert len(files) > 30
    for folder in {path.parent for path in files}:  # a folder's files together: they import each other
        together = {path.name: path.read_text() for path in folder.glob("*.py")}
        assert scan.scan(together) is None, folder
    generated = tmp_path / "generated"
    done = subprocess.run([sys.executable, str(repo / "bench" / "classgen.py"), str(generated), "--count", "40"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    submissions = list(generated.rglob("ex*.py"))
    assert len(submissions) > 100
    for folder in {path.parent for path in submissions}:
        together = {path.name: path.read_text() for path in folder.glob("*.py")}
        refusal = scan.scan(together)  # or a module missing (`import numpy_helpers`, an ex07 not handed in)
        assert refusal is None or refusal.unknown, (folder, refusal)


def test_the_scan_passes_what_the_notebook_api_builds():
    from lossgrade.grading import notebook_source

    reference = runner.reference(catalog.resolve("ex03"))
    built = notebook_source.build({"log_softmax": reference.log_softmax, "cross_entropy": reference.cross_entropy},
                                  ("log_softmax", "cross_entropy"), "ex03", ())
    assert not built.problems
    assert scan.scan({"ex03_cross_entropy.py": built.text}) is None


def test_a_good_submission_is_graded_the_same_beside_the_cases(sandbox, good):
    exercise = catalog.resolve("ex01")
    baseline = good.baseline(exercise)
    for name in SCANNED:
        case = catalog.resolve(EXERCISE[name])
        runner.grade_exercise(sandbox, case, {case.file: REPLIES[name].read_text()}, limits=Limits(call_seconds=3))
    assert signature(good.result(exercise)) == baseline


# --- determinism per secret ------------------------------------------------------------------------
WRONG_MSE = '''import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    squared = (input - target) ** 2
    return squared.sum() if reduction != "none" else squared  # sums where it should average
'''


def test_a_results_folder_grades_the_same_at_any_jobs_and_another_folder_draws_other_inputs(tmp_path):
    from lossgrade.grading import grade

    root = tmp_path / "class"
    for learner, source in (("wrong", WRONG_MSE), ("right", (SOLUTIONS / "ex01_mse.py").read_text())):
        (root / learner).mkdir(parents=True)
        (root / learner / "ex01_mse.py").write_text(source)

    def feedback(out: Path, jobs: int) -> dict[str, list[Any]]:
        batch = grade.grade_class(root, out, jobs=jobs, force=True, chosen=["ex01"])
        return {r.learner: [signature(e) for e in r.result.exercises] for r in batch.records}

    first = feedback(tmp_path / "results", 1)
    assert feedback(tmp_path / "results", 2) == first  # the folder's secret: the same inputs, the same words
    other = feedback(tmp_path / "elsewhere", 1)
    assert other["right"] == first["right"]
    assert other["wrong"] != first["wrong"]  # the same verdicts, on other numbers
    assert [c[:2] for c in other["wrong"][0][3:]] == [c[:2] for c in first["wrong"][0][3:]]


def test_the_pytest_plugin_refuses_the_switch_off_too(tmp_path):
    (tmp_path / "ex03_cross_entropy.py").write_text(REPLIES["replies_switch_off_the_rule"].read_text())
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "lossgrade.pytest_plugin", "-p", "no:cacheprovider",
                           "-q", str(tmp_path)], capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Your code was not run: line 6" in done.stdout and " passed" not in done.stdout.splitlines()[-1]


WRITES_CODE = '''import torch


def mse_loss(input, target, reduction="mean"):
    with open("notes.txt", "w") as notes:  # data: fine
        notes.write("a note")
    with open(NAME, "w") as module:  # code the grader never read
        module.write("import gc")
    return torch.zeros(())
'''


@pytest.mark.parametrize("name", ["helper.py", "ex03_cross_entropy.py", "__pycache__/x.cpython-311.pyc", "lib.zip"])
def test_the_guards_refuse_learner_code_that_writes_python_code(sandbox, name):
    exercise = catalog.resolve("ex01")
    source = WRITES_CODE.replace("NAME", repr(name))
    assert scan.scan({exercise.file: source}) is None  # nothing to see in the source: the worker refuses it
    learner = LearnerModule(sandbox, exercise.module, {exercise.file: source}, exercise.functions, exercise.forbidden,
                            Limits(call_seconds=5))
    try:
        reply = learner.call("mse_loss", torch.zeros(2), torch.zeros(2))
    finally:
        learner.close()
    assert reply.kind == "raised" and "may not write Python code" in reply.message, reply


def test_the_gradescope_image_makes_its_secret_readable_by_root_alone(tmp_path):
    from lossgrade.cli import autograder

    assert "umask 077" in autograder.SETUP_SH and "/autograder/source/lossgrade-secret" in autograder.SETUP_SH
    assert 'LOSSGRADE_SECRET_FILE="$SOURCE/lossgrade-secret"' in autograder.RUN_AUTOGRADER
    made = secret.load_or_create_secret(tmp_path / "lossgrade-secret")  # what grade_one does with it
    assert (tmp_path / "lossgrade-secret").read_text().strip() == made.hex()

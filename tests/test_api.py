"""The Python API (`lossgrade.check`, `hint`, `quiz`) as a notebook uses it.

`Notebook` runs code the way IPython does: each cell is compiled under its own file name,
registered in `linecache`, and executed in one `__main__` namespace; the API is called from
inside that namespace, so it sees what a notebook's caller would see.
"""
from __future__ import annotations

import contextlib
import json
import linecache
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import markupsafe
import pytest
from click.testing import CliRunner

import lossgrade
from lossgrade import api
from lossgrade.course import catalog
from lossgrade.grading import notebook_source, service
from lossgrade.cli.main import cli
from lossgrade.quiz import library
from lossgrade.quiz.model import Kind

MSE = '''
import torch

def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    squared = (input - target) ** 2
    if reduction == "mean":
        return squared.mean()
    return squared.sum() if reduction == "sum" else squared
'''
MSE_SUM_NOT_MEAN = MSE.replace("return squared.mean()", "return squared.sum()")
ANSI = re.compile(r"\x1b\[")


class Notebook:
    """One notebook kernel's namespace, filled cell by cell."""

    count = 0

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {"__name__": "__main__", "lossgrade": lossgrade}

    def run(self, code: str) -> Notebook:
        Notebook.count += 1
        name = f"<lossgrade-test-cell-{Notebook.count}>"
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)
        exec(compile(code, name, "exec"), self.ns)  # noqa: S102 - the test's own code
        return self

    def call(self, expression: str) -> Any:
        """Evaluate `expression` in the notebook, as a cell's last line would be."""
        return eval(expression, self.ns)  # the test's own code


@pytest.fixture(autouse=True)
def no_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work in an empty folder: no workspace, so hints and quiz scores are not saved."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOSSGRADE_WORKSPACE", raising=False)
    monkeypatch.setattr(api, "_hints_shown", {})


def outcomes(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(c["id"], c["outcome"], c["misconception"] and c["misconception"]["id"],
             c["feedback"] and c["feedback"]["message"]) for c in data["checks"]]


# --- check: verdicts -------------------------------------------------------------------------
def test_right_function_passes_and_shows_itself_as_text_and_html() -> None:
    result = Notebook().run(MSE).call('lossgrade.check("ex01", mse_loss=mse_loss)')
    assert result.passed and result.score == result.max_score == 10
    assert result.to_dict()["status"] == "passed" and result.failed == []
    assert all(c.outcome.value in ("passed", "skipped") for c in result.checks)
    text = str(result)
    assert text.startswith("ex01 · Mean squared error, from scratch") and "10/10 points · passed" in text
    assert not ANSI.search(text) and repr(result) == text
    page = result._repr_html_()
    assert page.startswith('<div class="lg lg-fragment">') and "<style" in page
    assert "Mean squared error, from scratch" in page and "10 / 10 points" in page
    assert "badge is-passed" in page and "badge is-failed" not in page


def test_wrong_function_fails_with_the_misconception_named() -> None:
    result = Notebook().run(MSE_SUM_NOT_MEAN).call('lossgrade.check("ex01", mse_loss=mse_loss)')
    assert not result.passed and result.status.value == "failed" and 0 < result.score < 10
    assert "ex01.sum-not-mean" in [m.id for m in result.misconceptions]
    assert "mistake:" in str(result) and "expected: tensor(0.2875" in str(result)
    page = result._repr_html_()
    assert "Known misconception: Summed the squared errors instead of averaging them" in page
    assert "0.2875" in page and "badge is-failed" in page


def test_verdicts_equal_the_cli_on_the_same_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lossgrade check --json` and the API on the same code. The command borrows the API's
    sandbox (starting one of its own would only cost another torch import)."""
    monkeypatch.setattr(service, "open_sandbox", contextlib.contextmanager(lambda *a, **k: iter([api._shared_sandbox()])))
    runner = CliRunner()
    workspace = tmp_path / "work"
    assert runner.invoke(cli, ["init", str(workspace)]).exit_code == 0
    monkeypatch.chdir(workspace)  # a notebook in the workspace: the workspace's grading secret, the same inputs
    for source in (MSE, MSE_SUM_NOT_MEAN):
        (workspace / "ex01_mse.py").write_text(source)
        ran = runner.invoke(cli, ["check", "ex01", "--json", "-w", str(workspace)])
        from_cli = json.loads(ran.stdout)[0]
        from_api = Notebook().run(source).call('lossgrade.check("ex01", mse_loss=mse_loss)').to_dict()
        from_file = lossgrade.check("ex01", path=workspace / "ex01_mse.py").to_dict()
        assert from_cli["status"] == ("passed" if source is MSE else "failed")
        for data in (from_api, from_file):
            assert (data["status"], data["score"], data["max_score"]) == (from_cli["status"], from_cli["score"], from_cli["max_score"])
            assert outcomes(data) == outcomes(from_cli)
            assert set(data) == set(from_cli)


def test_functions_are_found_by_name_and_helpers_constants_and_modules_travel() -> None:
    notebook = Notebook().run('''
import math
import torch as T
POWER = 2
REDUCTIONS = ("mean", "sum", "none")

def _check(input, target, reduction):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in REDUCTIONS:
        raise ValueError("bad reduction")

def mse_loss(input, target, reduction="mean"):
    _check(input, target, reduction)
    squared = (input - target) ** POWER * math.cos(0.0) + T.zeros(())
    return {"mean": squared.mean, "sum": squared.sum}.get(reduction, lambda: squared)()
''')
    assert notebook.call('lossgrade.check("ex01")').passed
    assert notebook.call('lossgrade.check(1)').passed  # ids as the CLI takes them


def test_the_learners_code_runs_only_in_the_sandbox() -> None:
    notebook = Notebook().run(MSE.replace('    if input.shape', '''    import os, sys
    try:
        os.environ["LOSSGRADE_RAN_HERE"] = "yes"  # the worker refuses it; this process would not
    except PermissionError:
        pass
    print("<script>alert(1)</script>")
    sys.exit(0)
    if input.shape'''))
    result = notebook.call('lossgrade.check("ex01", mse_loss=mse_loss)')
    assert "LOSSGRADE_RAN_HERE" not in os.environ  # and this process is still alive
    assert not result.passed and "SystemExit" in str(result)
    page = result._repr_html_()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_sandbox_is_started_once_and_reused() -> None:
    notebook = Notebook().run(MSE)
    notebook.call('lossgrade.check("ex01", mse_loss=mse_loss)')
    first = api._sandbox
    notebook.call('lossgrade.check("ex01", mse_loss=mse_loss)')
    assert api._sandbox is first is not None


def test_a_hang_is_stopped_after_the_timeout() -> None:
    notebook = Notebook().run(MSE.replace('    if input.shape', '    while True:\n        pass\n    if input.shape'))
    result = notebook.call('lossgrade.check("ex01", mse_loss=mse_loss, timeout=0.2)')
    assert not result.passed and "0.2" in str(result)


# --- check: bad input, as a message in the result ------------------------------------------------
BAD_INPUT = [
    ('lossgrade.check("ex01", mse_loss=lambda input, target, reduction="mean": input)',
     "`mse_loss` is a lambda"),
    ('lossgrade.check("ex01", mse_loss=uses_a_tensor)',
     "`uses_a_tensor` uses the notebook variable `WEIGHTS` (a torch.Tensor of shape (3,)), which cannot be sent"),
    ('lossgrade.check("ex01", mse_loss=make_closure(2.0))',
     "`inner` is defined inside another function and uses its variable(s) scale"),
    ('lossgrade.check("ex01", mse_loss=two_arguments)',
     ("`mse_loss` (your `two_arguments`) takes (input, target), but the checks call it as "
      "mse_loss(input, target, reduction='mean') (it has no parameter reduction)")),
    ('lossgrade.check("ex01", mse_loss=uses_undefined)', "`uses_undefined` uses `not_defined_yet`, which is not defined"),
    ('lossgrade.check("ex01", mse_loss=torch.nn.functional.mse_loss)', "which comes with a library"),
    ('lossgrade.check("ex01", mse_loss=3)', "`mse_loss` should be a function, but you passed an int"),
    ('lossgrade.check("ex42", mse_loss=two_arguments)', "unknown exercise 'ex42'"),
    ('lossgrade.check("ex01", mse=two_arguments)', "ex01 has no function named mse (did you mean mse_loss?)"),
    ('lossgrade.check("ex01")', "Nothing to check: pass your functions"),
    ('lossgrade.check("ex01", path="nowhere.py")', "nowhere.py does not exist"),
    ('lossgrade.check("ex01", path="x.py", mse_loss=two_arguments)', "Pass either path= or your functions"),
]


@pytest.mark.parametrize(("call", "message"), BAD_INPUT, ids=[m.split()[0].strip("`'") for _, m in BAD_INPUT])
def test_bad_input_is_a_clear_message_not_a_traceback(call: str, message: str) -> None:
    notebook = Notebook().run('''
import torch
WEIGHTS = torch.ones(3)

def uses_a_tensor(input, target, reduction="mean"):
    return ((input - target) ** 2 * WEIGHTS).mean()

def make_closure(scale):
    def inner(input, target, reduction="mean"):
        return ((input - target) ** 2).mean() * scale
    return inner

def two_arguments(input, target):
    return ((input - target) ** 2).mean()

def uses_undefined(input, target, reduction="mean"):
    return not_defined_yet(input, target)
''')
    result = notebook.call(call)
    assert result.status.value == "error" and not result.passed and result.score == 0 and result.checks == []
    assert message in result.error
    assert message.split("`")[0] in str(result) and "Traceback" not in str(result)
    assert "Why nothing could be checked" in result._repr_html_()


def test_an_exercise_without_checks_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "has_checks", lambda exercise: False)
    result = Notebook().run(MSE).call('lossgrade.check("ex01", mse_loss=mse_loss)')
    assert result.error == "This version of lossgrade has no checks for ex01 yet, so it cannot grade it."


@pytest.mark.skipif(not api.has_checks(catalog.resolve("ex03")), reason="ex03's checks are not in this version")
def test_ex03_with_two_functions_one_calling_the_other() -> None:
    notebook = Notebook().run((Path(__file__).parents[1] / "solutions" / "ex03_cross_entropy.py").read_text())
    notebook.run("my_log_softmax = log_softmax\ndel log_softmax")
    result = notebook.call('lossgrade.check("ex03", cross_entropy=cross_entropy)')
    assert not result.passed  # cross_entropy calls log_softmax, gone from the notebook: a stub now
    assert "`log_softmax` was not passed" in result.notes[0]
    passed = notebook.call('lossgrade.check("ex03", cross_entropy=cross_entropy, log_softmax=my_log_softmax)')
    assert passed.passed, str(passed)
    partial = Notebook().run("import torch\ndef log_softmax(logits, dim=-1):\n    return logits - logits.exp().sum(dim, keepdim=True).log()\n")
    half = partial.call('lossgrade.check("ex03")')
    assert "`cross_entropy` was not passed" in half.notes[0] and "note: `cross_entropy` was not passed" in str(half)
    assert "Note:" in half._repr_html_()


# --- notebook_source ------------------------------------------------------------------------
def test_module_source_binds_exercise_names_and_resolves_globals() -> None:
    notebook = Notebook().run('''
import torch
import torch.nn.functional as F
from torch import exp
from math import inf
SHIFTS = (1, 2.5, "x", None, True, -inf)

def _row_max(x, dim):
    return x.amax(dim=dim, keepdim=True)

def my_log_softmax(logits, dim=-1):
    shifted = logits - _row_max(logits, dim).detach()
    return shifted - exp(shifted).sum(dim=dim, keepdim=True).log() + 0 * len(SHIFTS)

@torch.no_grad()
def evaluate_like(x):
    return F.relu(x)

class Doubler(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return 2 * my_log_softmax(x)
''')
    ns = notebook.ns
    built = notebook_source.build({"log_softmax": ns["my_log_softmax"], "evaluate": ns["evaluate_like"],
                                   "Function": ns["Doubler"]}, ("log_softmax", "cross_entropy", "evaluate", "Function"))
    assert built.problems == [] and built.missing == ["cross_entropy"]
    for line in ("import torch", "import torch.nn.functional as F", "from torch import exp",
                 "SHIFTS = (1, 2.5, 'x', None, True, float('-inf'))", "log_softmax = my_log_softmax",
                 "@torch.no_grad()", "class Doubler(torch.autograd.Function):", "Function = Doubler"):
        assert line in built.text.splitlines()
    assert built.text.count("def my_log_softmax") == 1 and "def inf" not in built.text
    module: dict[str, Any] = {}
    exec(compile(built.text, "built", "exec"), module)  # noqa: S102 - our own test functions
    torch = module["torch"]
    assert torch.allclose(module["log_softmax"](torch.tensor([0.0, 0.0])), torch.log(torch.tensor([0.5, 0.5])))
    with pytest.raises(NotImplementedError, match="cross_entropy was not passed"):
        module["cross_entropy"]()


def test_functions_from_a_file_beside_the_notebook_travel_as_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_helpers_for_lossgrade.py").write_text("import torch\n\ndef squared(d):\n    return d ** 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_helpers_for_lossgrade", raising=False)
    notebook = Notebook().run(MSE.replace("squared = (input - target) ** 2", "squared = squared_error(input - target)")
                              + "from my_helpers_for_lossgrade import squared as squared_error\nimport my_helpers_for_lossgrade\n")
    built = notebook_source.build({"mse_loss": notebook.ns["mse_loss"]}, ("mse_loss",))
    assert built.problems == [] and "def squared(d):" in built.text and "squared_error = squared" in built.text
    assert notebook.call('lossgrade.check("ex01")').passed
    notebook.run("def uses_module(input, target, reduction='mean'):\n    return my_helpers_for_lossgrade.squared(input - target).mean()\n")
    problem = notebook_source.build({"mse_loss": notebook.ns["uses_module"]}, ("mse_loss",)).problems
    assert problem == ["`uses_module` uses the module `my_helpers_for_lossgrade`, which is not installed where the grader "
                       "runs your code: copy what you need from it into the notebook."]


def test_postponed_annotations_stay_postponed_and_a_missing_class_is_a_stub() -> None:
    ns = Notebook().run(
        "from __future__ import annotations\n\n"
        "def focal(input: Logits, target: Labels, gamma=2.0, alpha=None, reduction='mean') -> Loss:\n"
        "    return input.sum()\n"
    ).ns
    built = notebook_source.build({"focal_loss": ns["focal"]}, ("focal_loss", "CrossEntropyFunction"),
                                  classes=frozenset({"CrossEntropyFunction"}))
    assert built.problems == [] and built.missing == ["CrossEntropyFunction"]
    assert "from __future__ import annotations" in built.text.splitlines()
    module: dict[str, Any] = {}
    exec(compile(built.text, "built", "exec"), module)  # noqa: S102 - our own test functions
    with pytest.raises(NotImplementedError, match="CrossEntropyFunction was not passed"):
        module["CrossEntropyFunction"].apply()


def test_two_meanings_of_one_name_are_reported() -> None:
    ns = Notebook().run('''
def log_softmax(x, dim=-1):
    return x
def other_log_softmax(x, dim=-1):
    return x
def cross_entropy(x, t, reduction="mean"):
    return log_softmax(x)
''').ns
    built = notebook_source.build({"cross_entropy": ns["cross_entropy"], "log_softmax": ns["other_log_softmax"]},
                                  ("log_softmax", "cross_entropy"))
    assert len(built.problems) == 1
    assert "`cross_entropy` uses `log_softmax`, which is the function `log_softmax` in your notebook" in built.problems[0]


# --- hint and quiz -------------------------------------------------------------------------------
def test_hints_come_gentle_first_and_share_the_clis_memory(tmp_path: Path) -> None:
    hints = catalog.resolve("ex01").hints
    first, second = lossgrade.hint("ex01"), lossgrade.hint("1")
    assert str(first) == f"Hint 1/{len(hints)} for ex01: {hints[0]}" and first.hints == [hints[0]]
    assert str(second).startswith(f"Hint 2/{len(hints)} for ex01:")
    assert "<strong>Hint 2/3:</strong>" in second._repr_html_()
    assert str(lossgrade.hint("ex01", all=True)).count("Hint ") == 2
    assert "unknown exercise 'ex42'" in str(lossgrade.hint("ex42"))
    assert "No hints shown yet for ex02" in str(lossgrade.hint("ex02", all=True))
    runner = CliRunner()
    workspace = tmp_path / "work"
    runner.invoke(cli, ["init", str(workspace)])
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workspace)
        assert str(lossgrade.hint("ex01")).startswith("Hint 1/")
    assert runner.invoke(cli, ["hint", "ex01", "-w", str(workspace)]).output.startswith("Hint 2/")


def _right_answers(quiz_id: str) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in library.get(quiz_id).questions:
        answer = question.answer
        answers[question.id] = list(answer) if question.kind is Kind.MULTIPLE else answer
    return answers


def test_quiz_shows_its_questions_then_grades_answers() -> None:
    sheet = lossgrade.quiz("logits")
    questions = library.get("logits").questions
    assert all(f"[{q.id}]" in str(sheet) for q in questions)
    assert 'lossgrade.quiz("logits", answers={' in str(sheet) and "softmax-before-ce" in sheet._repr_html_()
    right = lossgrade.quiz("logits", answers=_right_answers("logits"))
    assert right.passed and right.score == right.max_score == len(questions)
    wrong = dict(_right_answers("logits"), **{"softmax-before-ce": 0.417})
    graded = lossgrade.quiz("logits", answers=wrong)
    assert graded.score == len(questions) - 1 and not graded.passed
    assert "myth:" in str(graded) and "Myth:" in graded._repr_html_()
    assert graded.to_dict()["questions"][0]["correct"] is False


@pytest.mark.parametrize(("quiz_id", "answers", "message"), [
    ("logit", None, "unknown quiz 'logit'; did you mean logits?"),
    ("logits", {"softmax-before": 0.8}, "quiz logits has no question 'softmax-before'; did you mean softmax-before-ce?"),
    ("logits", {"softmax-before-ce": "lots"}, "logits#softmax-before-ce is a numeric question: expected a number"),
])
def test_quiz_bad_input_is_a_message(quiz_id: str, answers: dict[str, Any] | None, message: str) -> None:
    result = lossgrade.quiz(quiz_id, answers)
    assert message in result.error and message in str(result) and str(markupsafe.escape(message)) in result._repr_html_()


# --- the package ---------------------------------------------------------------------------------
def test_import_is_cheap_and_quiz_is_still_the_package() -> None:
    code = ("import sys, lossgrade; lossgrade.check, lossgrade.hint; assert 'torch' not in sys.modules; "
            "import lossgrade.quiz.grading; from lossgrade.quiz import grade_answers_file; "
            "assert callable(lossgrade.quiz) and lossgrade.quiz.grade_answers_file is grade_answers_file; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert callable(lossgrade.quiz) and hasattr(lossgrade.quiz, "validate")

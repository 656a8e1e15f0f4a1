"""Red team, round 3: learner code that would run again outside its guarded stretch, and
what the grader reads from learner-made objects.

A worker's guards are on only while learner code runs (its "stretch"); the worker's own
code (decoding a request, moving the inputs, describing an exception, encoding the reply)
runs between stretches, where, in ex06, autograd is not refused. Each case of
`cases/round3_*.py` (also graded by test_redteam.py with its good baseline, canary and
strays) tried to get its code run there: a torch method replaced on the class through an
alias the scan cannot follow, a torch function mode left on (both had ex06's "by hand"
gradients computed by autograd: 6.43 of 15 points), a signal timer, finalizers, exceptions
whose description is code, a tensor whose class is swapped to hide an in-place edit (10 of
10 on ex01). Each now gets 0 through `lossgrade check` (also with `--strong`) and
`lossgrade grade`, beside good submissions that keep their marks.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from lossgrade import course
from lossgrade.course import catalog
from lossgrade.grading.grader import Grader
from lossgrade.sandbox import inprocess, scan
from lossgrade.sandbox.client import Limits

from .conftest import SOLUTIONS, signature
from .test_redteam import CASES, Case, exercise_for, feedback_text

ROUND3 = [case for case in CASES if case.name.startswith("round3_")]


def _worker():
    return inprocess._WORKER  # the worker's own code, loaded as a worker loads it


def _strong_or_skip() -> None:
    from lossgrade.sandbox import strong as strong_mode

    usable, why = strong_mode.available()
    if not usable:
        pytest.skip(why)


def test_round3_cases_are_there():
    assert len(ROUND3) >= 6
    assert all(case.score == 0 and case.mentions for case in ROUND3)
    assert all(scan.scan({exercise_for(c).file: c.source}) is None for c in ROUND3)  # each gets past the scan


CHECKED = [(case, False) for case in ROUND3] + [(case, True) for case in ROUND3]


@pytest.mark.parametrize("case, strong", CHECKED, ids=[f"{c.name}{'-strong' if s else ''}" for c, s in CHECKED])
def test_lossgrade_check_gives_round3_cases_zero_naming_the_attempt(case: Case, strong: bool, tmp_path: Path):
    if strong:
        _strong_or_skip()
    exercise = exercise_for(case)
    (tmp_path / exercise.file).write_text(case.source)
    done = subprocess.run([sys.executable, "-m", "lossgrade", "check", exercise.id, "-w", str(tmp_path), "--json",
                           "--timeout", str(case.timeout), *(["--strong"] if strong else [])],
                          capture_output=True, check=False, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    results = json.loads(done.stdout)
    assert [(r["exercise"], r["score"]) for r in results] == [(exercise.id, 0.0)]
    assert case.mentions in done.stdout


@pytest.mark.parametrize("strong", [False, True], ids=["default", "strong"])
def test_lossgrade_grade_gives_round3_cases_zero_and_good_ones_their_marks(strong: bool, tmp_path: Path, good):
    if strong:
        _strong_or_skip()
    from lossgrade.grading import grade

    root = tmp_path / "class"
    chosen = sorted({case.exercise for case in ROUND3})
    for learner in ("good-first", "good-last"):
        (root / learner).mkdir(parents=True)
        for exercise_id in chosen:
            exercise = catalog.resolve(exercise_id)
            (root / learner / exercise.file).write_text((SOLUTIONS / exercise.file).read_text())
    for case in ROUND3:
        exercise = catalog.resolve(case.exercise)
        (root / case.name).mkdir(parents=True)
        (root / case.name / exercise.file).write_text(case.source)
    batch = grade.grade_class(root, tmp_path / "results", jobs=2, chosen=chosen, strong=strong)
    assert not batch.grader_failed, batch.problems
    found = {r.learner: {e.exercise: e for e in r.result.exercises} for r in batch.records}
    assert {case.name: found[case.name][case.exercise].score for case in ROUND3} == {c.name: 0.0 for c in ROUND3}
    for exercise_id in chosen:
        first, last = found["good-first"][exercise_id], found["good-last"][exercise_id]
        assert first.score == last.score == catalog.resolve(exercise_id).points
        if not strong:
            assert signature(first) == signature(last) == good.baseline(catalog.resolve(exercise_id))


# --- past the scan: a class's own name, and objects the reply code would read ---------------------
NAMED = '''
import torch
import torch.nn.functional as F

tried = []


class Text(str):
    def encode(self, *args, **kwargs):
        raise KeyError("the reply code called my encode")

    def __len__(self):
        return 10 ** 9


class Named(type):
    @property
    def __name__(cls):
        try:
            F.log_softmax(torch.zeros(2, 3), dim=1)
            tried.append("unguarded")
        except Exception:
            pass
        return Text("float")


class Loss(float, metaclass=Named):
    pass


class Boom(Exception, metaclass=Named):
    def __str__(self):
        return Text("boom")


def train_step(model, loss_fn, optimizer, x, y):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return Loss(loss.item())


def evaluate(model, loss_fn, x, y):
    raise Boom()
'''


def test_past_the_scan_a_metaclass_name_and_str_subclasses_run_only_guarded(sandbox, good):
    """A class whose metaclass answers `__name__` with a str subclass (whose encode raises):
    the worker reads the class's own name beneath it and sends plain text; grading ends
    normally with 0 and good submissions keep their results."""
    assert scan.scan({"ex07_train_step.py": NAMED}) is not None  # the scan refuses `def __name__`
    exercise = catalog.resolve("ex07")
    baseline = good.baseline(exercise)
    result = Grader(course.current(), sandbox).grade(exercise, {exercise.file: NAMED}, Limits(call_seconds=5), scanned=False)
    evaluate = [c for c in result.checks if "evaluate" in c.id and c.outcome.name != "SKIPPED"]
    assert evaluate and all(c.outcome.name == "FAILED" for c in evaluate)  # it raises: graded, described, failed
    assert result.score < exercise.points
    assert "raised Boom" in feedback_text(result) and "boom" in feedback_text(result)  # its own name, not "float"
    assert "the reply code called my encode" not in feedback_text(result) and "not plain data" not in feedback_text(result)
    assert good.grade(exercise) == baseline


def test_plain_reads_learner_subclasses_through_the_base_types():
    class Loud(str):
        def __str__(self):
            raise AssertionError("ran")

        def encode(self, *args, **kwargs):
            raise AssertionError("ran")

    class Num(int):
        def __int__(self):
            raise AssertionError("ran")

        def __index__(self):
            raise AssertionError("ran")

    class Many(list):
        def __iter__(self):
            raise AssertionError("ran")

        def __len__(self):
            raise AssertionError("ran")

    class Table(dict):
        def items(self):
            raise AssertionError("ran")

    value = Table({Loud("k"): Many([Num(3), Loud("v"), (1.5, None)])})
    made = _worker().plain(value)
    assert made == {"k": [3, "v", (1.5, None)]}
    assert type(made) is dict and all(type(k) is str for k in made)
    assert [type(v) for v in made["k"]] == [int, str, tuple]
    with pytest.raises(TypeError):
        _worker().plain(object())
    with pytest.raises(TypeError):
        _worker().plain(torch.nn.Parameter(torch.zeros(1)))


def test_describing_an_exception_runs_none_of_its_tricks():
    class Named(type):
        @property
        def __name__(cls):
            raise AssertionError("ran")

    class Boom(Exception, metaclass=Named):
        def __str__(self):
            raise SystemExit("no")

    try:
        raise Boom()
    except Boom as exc:
        described = _worker().describe_exception(exc, "/nowhere")
    assert described["type"] == "Boom" and "Exception" in described["mro"]
    assert described["message"].startswith("(its message could not be shown")


# --- output: learner text in every file the grader writes ------------------------------------------
POISON = '''
import torch
print("</pre><script>alert('out')</script>", '"},{"score": 10}', "=SUM(A1)", "\\x1b[2J")


class Boom(Exception):
    pass


def mse_loss(input, target, reduction="mean"):
    print("<img src=x onerror=alert('print')>")
    raise Boom("<script>alert('message')</script>\\n=HYPERLINK(\\"http://x\\")")
'''


def test_learner_text_and_names_cannot_inject_into_reports_or_the_gradebook(tmp_path: Path):
    root = tmp_path / "class"
    names = ["<script>alert(1)<\\script>", '=HYPERLINK("x")', "+cmd", "a,b\"c"]
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "ex01_mse.py").write_text(POISON)
    out = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "lossgrade", "grade", str(root), "--out", str(out), "-e", "ex01"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    for page in [out / "report.html", *(out / "learners").glob("*.html")]:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img src=x" not in text and "\x1b" not in text, page
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == len(names) + 1
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
    book = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    assert sorted(r["learner"] for r in book["records"]) == sorted(names)
    assert all(r["score"] == 0 for r in book["records"])


def test_a_worker_finds_no_secret_no_host_path_and_no_classmate(tmp_path: Path):
    """round3_read_secrets prints everything a worker can find (environment, command lines,
    folders up to the root, the places a secret is kept): none of it is the grading secret,
    the results, class or solutions folder, or a classmate's name."""
    case = next(c for c in ROUND3 if c.name == "round3_read_secrets")
    root = tmp_path / "class"
    (root / "snoop").mkdir(parents=True)
    (root / "snoop" / "ex01_mse.py").write_text(case.source)
    (root / "classmate-zq7").mkdir()
    (root / "classmate-zq7" / "ex01_mse.py").write_text((SOLUTIONS / "ex01_mse.py").read_text())
    secret = tmp_path / "secret"
    secret.write_text("5e" * 32 + "\n")
    out = tmp_path / "results-xv9"
    done = subprocess.run([sys.executable, "-m", "lossgrade", "grade", str(root), "--out", str(out), "-e", "ex01",
                           "--secret", str(secret)], capture_output=True, text=True, timeout=600, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    record = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    mine = [r for r in record["records"] if r["learner"] == "snoop"]
    assert mine and mine[0]["score"] == 0
    seen = json.dumps(mine)
    assert "looked for: environ" in seen  # the dump did come back, as printed output
    for hidden in ("5e" * 16, str(out), "results-xv9", str(root), "classmate-zq7", str(SOLUTIONS), str(tmp_path)):
        assert hidden not in seen, hidden

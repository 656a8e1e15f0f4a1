"""The red-team suite: every hostile submission in `cases/` gets the grade its header
declares, through the real sandbox, and harms nothing else.

A case's first line declares what it attacks and what it must get:

    # redteam: exercise=ex01 score=0 [needs=root] [timeout=SECONDS] [mentions=TEXT]

`needs=root`: a case that, were a guard to fail, would hit every process of the user
running the tests; only run where workers get uids of their own. `timeout`: seconds per
call, for a case that needs more than the suite's short default to reach its attack.
`mentions`: words that some check's feedback must contain (the forbidden call named, the
reason for a crash).

For each case: the grade is as declared, grading finishes with every check reported, the
grader's own process is unchanged, a canary results file outside the worker is untouched,
no process is left behind, and a known-good submission graded after it gets exactly the
results it got before. The same hold when hostile and good submissions are graded side by
side, by threads sharing one sandbox, by `lossgrade check`, and by batch grading.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.core.results import ExerciseResult
from lossgrade.sandbox.client import Limits

from .conftest import SOLUTIONS, signature

CASES_DIR = Path(__file__).with_name("cases")
# Each hanging check costs one timeout: keep them short, and the suite well under 3 minutes.
HOSTILE_TIMEOUT = 1.0
HEADER = re.compile(r"#\s*redteam:(.*)")


@dataclass(frozen=True)
class Case:
    path: Path
    exercise: str
    score: float
    needs_root: bool
    timeout: float
    mentions: str | None

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")


def load_case(path: Path) -> Case:
    match = HEADER.match(path.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{path.name}: the first line must be `# redteam: exercise=exNN score=N`"
    fields = dict(re.findall(r"(\w+)=(\S+)", match.group(1)))
    mentions = re.search(r"mentions=(.+)$", match.group(1))
    return Case(path, fields["exercise"], float(fields["score"]), fields.get("needs") == "root",
                float(fields.get("timeout", HOSTILE_TIMEOUT)), mentions.group(1).strip() if mentions else None)


CASES = [load_case(p) for p in sorted(CASES_DIR.glob("*.py"))]


def exercise_for(case: Case) -> catalog.Exercise:
    """The exercise a case attacks; skips the case where it cannot run here."""
    exercise = catalog.resolve(case.exercise)
    if case.needs_root and os.geteuid() != 0:
        pytest.skip("needs root: as an ordinary user, workers share your uid (see docs/SANDBOX.md)")
    if importlib.util.find_spec(f"lossgrade.checks.{exercise.module}") is None:
        pytest.skip(f"{exercise.id} has no checks yet")
    return exercise


def grade_hostile(sandbox, exercise: catalog.Exercise, case: Case) -> ExerciseResult:
    return runner.grade_exercise(sandbox, exercise, {exercise.file: case.source}, limits=Limits(call_seconds=case.timeout))


def checks_of(result: ExerciseResult) -> set[str]:
    """The checks a result reports on, without their devices (a module that cannot be
    imported fails each check once, not once per device)."""
    return {c.id.split("[")[0] for c in result.checks}


def feedback_text(result: ExerciseResult) -> str:
    return "\n".join([result.error or ""] + [c.feedback.message for c in result.checks if c.feedback])


def test_every_case_declares_its_grade():
    assert len(CASES) >= 30
    assert {case.exercise for case in CASES} <= {e.id for e in catalog.exercises()}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_hostile_submission_gets_its_grade_and_harms_nothing(case, sandbox, good, canary, trusted_state, no_strays):
    exercise = exercise_for(case)
    baseline = good.baseline(exercise)
    result = grade_hostile(sandbox, exercise, case)
    assert result.score == case.score, feedback_text(result)
    assert checks_of(result) == checks_of(good.result(exercise)), "grading did not report every check"
    if case.mentions:
        assert case.mentions in feedback_text(result)
    canary.assert_untouched()
    no_strays()
    assert good.grade(exercise) == baseline, "a good submission graded after this one got other results"


def test_good_submissions_graded_beside_hostile_ones_are_unaffected(sandbox, good, canary, trusted_state, no_strays):
    """As in a batch graded in parallel: the nastiest cases run at the same time as good
    submissions, which must get exactly their results graded alone."""
    ex01 = catalog.resolve("ex01")
    baseline = good.baseline(ex01)
    nasty = [c for c in CASES if c.name in ("fork_bomb", "signal_the_grader", "background_thread", "allocate_30gib",
                                           "outliving_child", "other_processes")]
    if os.geteuid() != 0:
        nasty = [c for c in nasty if not c.needs_root]
    with ThreadPoolExecutor(max_workers=len(nasty) + 2) as pool:
        hostile = [pool.submit(grade_hostile, sandbox, ex01, case) for case in nasty]
        honest = [pool.submit(good.grade, ex01) for _ in range(2)]
        assert [future.result() for future in honest] == [baseline, baseline]
        assert [future.result().score for future in hostile] == [0.0] * len(nasty)
    canary.assert_untouched()
    no_strays()


@pytest.mark.parametrize("name", ["fake_results_output", "os_exit_in_function", "sleep_past_timeout"])
def test_lossgrade_check_grades_hostile_code_and_exits_normally(name, tmp_path):
    case = next(c for c in CASES if c.name == name)
    exercise = exercise_for(case)
    (tmp_path / exercise.file).write_text(case.source)
    done = subprocess.run([sys.executable, "-m", "lossgrade", "check", exercise.id, "-w", str(tmp_path), "--json",
                           "--timeout", str(case.timeout)],
                          capture_output=True, check=False, text=True, timeout=150)
    assert done.returncode == 1, done.stderr  # "some check failed", not a crash
    assert "Traceback" not in done.stderr
    results = json.loads(done.stdout)  # printed fake results cannot break the JSON
    assert [(r["exercise"], r["score"]) for r in results] == [(exercise.id, case.score)]


# Cases that fail fast: batch grading uses the default limits (10 s a call), under which
# the hanging cases would take minutes.
BATCH_CASES = ("read_reference_file", "copy_a_classmate", "signal_the_grader", "outliving_child", "forged_replies",
               "background_thread", "other_processes", "files_outside_workdir", "sys_exit_at_import", "global_torch_state")


def test_batch_grading_gives_hostile_submissions_their_grade_and_good_ones_theirs(tmp_path, good, canary):
    grade = pytest.importorskip("lossgrade.grading.grade", reason="batch grading (lossgrade.grading) is not built yet")
    ex01 = catalog.resolve("ex01")
    nasty = [c for c in CASES if c.name in BATCH_CASES and (os.geteuid() == 0 or not c.needs_root)]
    root = tmp_path / "class"
    for learner, source in [("good-first", (SOLUTIONS / ex01.file).read_text()), *((c.name, c.source) for c in nasty),
                            ("good-last", (SOLUTIONS / ex01.file).read_text())]:
        (root / learner).mkdir(parents=True)
        (root / learner / ex01.file).write_text(source)
    batch = grade.grade_class(root, tmp_path / "results", jobs=2, chosen=["ex01"])
    assert not batch.grader_failed, batch.problems
    scores = {r.learner: next(e for e in r.result.exercises if e.exercise == "ex01") for r in batch.records}
    assert {case.name: scores[case.name].score for case in nasty} == {case.name: case.score for case in nasty}
    assert signature(scores["good-first"]) == signature(scores["good-last"]) == good.baseline(ex01)
    canary.assert_untouched()

"""The pytest plugin on throwaway submissions (pytester): checks collected as items, a
failure that reads as feedback, and the same grades as `lossgrade grade`'s runner."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.pytest_plugin import SANDBOX
from lossgrade.sandbox.client import Sandbox

pytest_plugins = ["pytester"]

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
CORRECT = (SOLUTIONS / "ex01_mse.py").read_text(encoding="utf-8")
SUM_NOT_MEAN = CORRECT.replace("return squared.mean()", "return squared.sum()")


class BorrowedSandbox:
    """Lends the session's sandbox to the inner pytest run (its zygote is already warm)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SANDBOX] = self.sandbox


def run(pytester: pytest.Pytester, sandbox: Sandbox, folder: str, *args: str) -> pytest.RunResult:
    # (this process imported the plugin already, so the inner run cannot assert-rewrite it: fine;
    # pytest-benchmark, where installed beside xdist, would warn at start, an error under our filters)
    return pytester.runpytest("-p", "lossgrade.pytest_plugin", "-p", "no:cacheprovider", "-p", "no:benchmark",
                              "-W", "ignore::pytest.PytestAssertRewriteWarning", folder, *args,
                              plugins=[BorrowedSandbox(sandbox)])


def test_each_check_is_an_item_and_a_failure_reads_as_feedback(pytester: pytest.Pytester, sandbox: Sandbox) -> None:
    pytester.mkdir("ben")
    pytester.path.joinpath("ben", "ex01_mse.py").write_text(SUM_NOT_MEAN)
    result = run(pytester, sandbox, "ben", "--lossgrade-exercise", "ex01", "--lossgrade-exercise", "ex03", "-rf")
    checks = runner.checks_for(catalog.resolve("ex01")).all
    failed = {"ex01_mse.worked_example", "ex01_mse.reductions", "ex01_mse.shapes", "ex01_mse.dtypes", "ex01_mse.gradients"}
    result.assert_outcomes(passed=len(checks) - len(failed), failed=len(failed) + 1)
    result.stdout.fnmatch_lines([
        "*Known misconception: Summed the squared errors instead of averaging them.*",
        "FAILED ben::ex01::ex01_mse.worked_example - mse_loss gives 0.2875*",
        "FAILED ben::ex03::submitted - ex03_cross_entropy.py was not submitted",
    ])


def test_the_grades_it_writes_are_the_runners(pytester: pytest.Pytester, sandbox: Sandbox) -> None:
    exercise = catalog.resolve("ex01")
    for learner, source in (("ada", CORRECT), ("ben", SUM_NOT_MEAN), ("cleo", "def mse_loss(:\n")):
        pytester.mkdir(learner)
        pytester.path.joinpath(learner, "ex01_mse.py").write_text(source)
        report = pytester.path / f"{learner}.json"
        run(pytester, sandbox, learner, "--lossgrade-exercise", "ex01", "--lossgrade-json", str(report))
        (got,) = json.loads(report.read_text(encoding="utf-8"))["exercises"]
        expected = runner.grade_exercise(sandbox, exercise, {exercise.file: source})
        assert (got["score"], got["status"]) == (expected.score, expected.status.value), learner
        assert [c["outcome"] for c in got["checks"]] == [c.outcome.value for c in expected.checks]


def test_an_unreadable_submission_is_one_failing_item(pytester: pytest.Pytester, sandbox: Sandbox) -> None:
    pytester.mkdir("dan")  # files spread over folders are graded now: a corrupt upload is what cannot be
    pytester.path.joinpath("dan", "upload.zip").write_bytes(b"PK\x03\x04 not really a zip")
    result = run(pytester, sandbox, "dan")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["not graded: upload.zip is not a readable zip file*",
                                 "FAILED dan::submission - not graded: upload.zip is not a readable zip file*"])

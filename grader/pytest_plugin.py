"""Run one submission's checks with pytest: every check of every exercise is a pytest item.

    pytest -p lossgrade.pytest_plugin SUBMISSION_DIR [--lossgrade-exercise ex03] [--lossgrade-json grades.json]

SUBMISSION_DIR is one learner's folder, laid out as `lossgrade grade` reads it (exercise
files at the top or under exercises/). Items are named by exercise and check id
(`alice/ex01::ex01_mse.reductions`); a failure reads as the learner's feedback. The checks
run exactly as in `lossgrade grade`: the same `Grader` (one check per item, through its
public steps), the same sandbox (one per pytest session), the verdicts computed in this
process. `--lossgrade-json` writes the exercises' results (scores, statuses, checks) so that
other tools, and the batch benchmark, can compare them with `lossgrade grade`'s.

This is the plain, one-process-per-submission way to grade a class; `lossgrade grade` does
the same work with the imports and the sandbox paid once for the whole class.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lossgrade import course
from lossgrade.course import catalog
from lossgrade.core.results import CheckResult, ExerciseResult, Outcome, Status, to_dict

if TYPE_CHECKING:
    from lossgrade.grading.files import Files
    from lossgrade.grading.grader import Grader

SANDBOX = pytest.StashKey[Any]()  # a Sandbox; a plugin may put one here before the session starts
OWNED = pytest.StashKey[bool]()
EXERCISES = pytest.StashKey[list["ExerciseNode"]]()


# ---------------------------------------------------------------------------- options
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lossgrade", "grading a lossgrade submission")
    group.addoption("--lossgrade-exercise", action="append", default=[], metavar="ID",
                    help="grade only this exercise (repeatable; default: every exercise with checks)")
    group.addoption("--lossgrade-json", metavar="PATH", help="write the exercises' results to PATH as JSON")


# -------------------------------------------------------------------------- configure
def pytest_configure(config: pytest.Config) -> None:
    config.stash[EXERCISES] = []


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the sandbox now (unless a plugin brought one): its torch import overlaps with
    the collection's."""
    if SANDBOX not in session.config.stash:
        from lossgrade.grading import service

        session.config.stash[SANDBOX] = service.open_sandbox(_chosen(session.config))
        session.config.stash[OWNED] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(OWNED, False):
        config.stash[SANDBOX].close()


def _grader(config: pytest.Config) -> Grader:
    """The session's Grader: the course in force, the session's sandbox."""
    from lossgrade.grading.grader import Grader

    return Grader(course.current(), config.stash[SANDBOX] if SANDBOX in config.stash else None)


def _chosen(config: pytest.Config) -> list[catalog.Exercise]:
    wanted = config.getoption("lossgrade_exercise")
    return [catalog.resolve(text) for text in wanted] if wanted else list(catalog.exercises())


# ------------------------------------------------------------------------- collection
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A folder named on the command line is a submission: collect its checks, not its files."""
    config = parent.config
    named = {(config.invocation_params.dir / arg).resolve() for arg in config.args}
    if path.resolve() in named:
        return SubmissionDir.from_parent(parent, path=path)
    return None


class SubmissionDir(pytest.Directory):
    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from lossgrade.grading import discover
        from lossgrade.grading import submission as grading

        submission = discover.read_one(self.path, self.path.name)
        if submission.problem:
            yield ProblemItem.from_parent(self, name="submission", reason=f"not graded: {submission.problem}")
            return
        gradable = _grader(self.config).gradable()
        for exercise in [e for e in _chosen(self.config) if e in gradable]:
            files = None if exercise.file in submission.rejected else grading.sources(submission, exercise)
            reason = submission.rejected.get(exercise.file) or f"{exercise.file} was not submitted"
            yield ExerciseNode.from_parent(self, name=exercise.id, exercise=exercise, files=files, reason=reason)


class ExerciseNode(pytest.Collector):
    """One exercise of the submission: its learner module is loaded once, for all its checks."""

    def __init__(self, *, exercise: catalog.Exercise, files: Files | None, reason: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exercise = exercise
        self.files = files
        self.reason = reason  # why there is nothing to check, when files is None
        self.learner: Any = None
        self.loaded: Any = None
        self.refused: Any = None  # what the source scan refused, if it did
        self.results: dict[str, list[CheckResult]] = {}
        self.config.stash[EXERCISES].append(self)

    def collect(self) -> Iterator[pytest.Item]:
        if self.files is None:
            yield ProblemItem.from_parent(self, name="submitted", reason=self.reason)
            return
        for check in _grader(self.config).checks(self.exercise).all:
            yield CheckItem.from_parent(self, name=check.id, check=check)

    def setup(self) -> None:
        from lossgrade.sandbox.replies import Reply

        if self.files is not None:
            grader = _grader(self.config)
            self.refused = grader.refusal(self.files)  # as Grader.grade: before any of it runs
            if self.refused is not None:
                self.loaded = Reply(kind="error", message=self.refused.message)
                return
            self.learner = grader.learner(self.exercise, self.files)
            with grader.in_force():
                self.loaded = self.learner.load()

    def teardown(self) -> None:
        if self.learner is not None:
            self.learner.close()

    def result(self) -> ExerciseResult:
        """The exercise's result, summarised from its checks as `lossgrade grade` does."""
        grader = _grader(self.config)
        e = self.exercise
        if self.files is None:
            status = Status.ERROR if self.reason != f"{e.file} was not submitted" else Status.NOT_SUBMITTED
            return ExerciseResult(e.id, e.title, status, 0.0, e.points, error=self.reason)
        if self.refused is not None:  # the same verdict as Grader.grade's
            return grader.refused(e, self.refused)
        if self.loaded is not None and self.loaded.kind != "loaded":
            return grader.unloadable(e, self.loaded)
        checks = [r for check in grader.checks(e).all for r in self.results.get(check.id, [])]
        return grader.summarise(e, checks)


class CheckFailed(Exception):
    """A check did not pass; the message is the learner's feedback."""


class CheckItem(pytest.Item):
    def __init__(self, *, check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        from lossgrade.checks import secret
        from lossgrade.output.gradescope import check_text

        node = self.parent
        assert isinstance(node, ExerciseNode)
        grader = _grader(self.config)
        if node.loaded.kind != "loaded":
            raise CheckFailed(grader.unloadable(node.exercise, node.loaded).error)
        with secret.learner_code():  # never on inputs that public facts decide
            results = grader.run_check(self.check, node.learner, node.exercise)
        node.results[self.check.id] = results
        failed = [r for r in results if r.outcome not in (Outcome.PASSED, Outcome.SKIPPED)]
        if failed:
            raise CheckFailed("\n\n".join(f"{r.id}: {check_text(r)}" for r in failed))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailed):
            return f"{self.check.description}\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.check.id}: {self.check.description}"


class ProblemItem(pytest.Item):
    """Nothing to check: the exercise was not submitted, or the submission is unreadable."""

    def __init__(self, *, reason: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reason = reason

    def runtest(self) -> None:
        raise CheckFailed(self.reason)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.name}: {self.reason}"


# ------------------------------------------------------------------------- reporting
def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("lossgrade_json")
    if path:
        nodes = session.config.stash[EXERCISES]
        data = {"exercises": [to_dict(node.result()) for node in nodes]}
        Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

"""`Grader`: the one grading core. A course's checks run on a learner's `Files` in a sandbox
worker, and what happened becomes an `ExerciseResult`, the verdict computed here.

Every front-end adapts it and none assembles grading itself: `lossgrade check` (through
`service`), a class (`submission`, in the `pool`'s grader processes), the notebook API, the
pytest plugin (which runs the checks one pytest item at a time, through `load`, `run_check`,
`unloadable` and `summarise`), the Gradescope autograder, the course self-check
(`selfcheck`, also with in-process learners) and the tests.

Nothing the learner's code does can reach this process: a failing import, a crash, a hang
or a lie all arrive here as data. The checks run with the Grader's course in force, so the
mistakes they name and the references they compare with are that course's.
"""
from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from lossgrade import course as courses
from lossgrade.checks import secret
from lossgrade.checks.ahead import Ahead, ahead
from lossgrade.checks.framework import Check, CheckContext, Checks, Failure, Learner, NotStarted, Skip
from lossgrade.core import pyfiles
from lossgrade.core.results import CheckResult, ExerciseResult, Feedback, Outcome, Status
from lossgrade.course import Course, Exercise
from lossgrade.sandbox import scan
from lossgrade.sandbox.client import Limits, Sandbox
from lossgrade.sandbox.learner import LearnerModule
from lossgrade.sandbox.replies import Reply


@functools.lru_cache(maxsize=None)
def devices() -> tuple[str, ...]:
    """Every device the checks run on: cpu always, cuda when this machine has it.

    Asked with `torch.cuda.device_count()`, which counts through NVML and leaves CUDA
    uninitialised, where `torch.cuda.is_available()` initialises the driver: `lossgrade
    grade` asks before it forks its graders, and a forked child cannot use CUDA that its
    parent initialised. Each grader initialises CUDA itself, at its first cuda check."""
    import torch

    return ("cpu", "cuda") if torch.cuda.device_count() > 0 else ("cpu",)


@functools.lru_cache(maxsize=None)
def _reference(module: str, path: Path) -> ModuleType:
    return pyfiles.load(f"lossgrade_reference_{module}", path, search=path.parent)


class Grader:
    """Grades learners' exercises of `course` in `sandbox` (None for a Grader that only runs
    checks on learners it is handed, as the self-check does with in-process ones)."""

    def __init__(self, course: Course, sandbox: Sandbox | None = None) -> None:
        self.course = course
        self.sandbox = sandbox

    # --------------------------------------------------------------- what the course holds
    def checks(self, exercise: Exercise) -> Checks:
        """The exercise's checks, found by path in its course folder (see `Course.checks`)."""
        return self.course.checks(exercise)

    def reference(self, exercise: Exercise) -> ModuleType:
        """The reference solution, imported here in the trusted process (never in a worker)."""
        return _reference(exercise.module, self.course.reference_file(exercise))

    def gradable(self) -> list[Exercise]:
        """The exercises that have checks (a course under construction may lack some)."""
        return [exercise for exercise in self.course.exercises if self.course.has_checks(exercise)]

    @contextlib.contextmanager
    def in_force(self) -> Iterator[None]:
        """The Grader's course in force while its checks run (their mistakes and helpers ask
        the course in force); nothing changes when it is in force already (the usual case)."""
        if courses.current() == self.course:
            yield
            return
        with courses.using(self.course):
            yield

    # ----------------------------------------------------------------------------- grading
    def grade(self, exercise: Exercise, files: Mapping[str, str] | None, limits: Limits | None = None, *,
              scanned: bool = True) -> ExerciseResult:
        """Grade the learner's files of `exercise` (None: not submitted). `scanned=False`
        skips the source scan: only for tests of the walls behind it (the worker's guards,
        the kernel's), never for grading."""
        started = time.perf_counter()
        if files is None:
            return ExerciseResult(exercise.id, exercise.title, Status.NOT_SUBMITTED, 0.0, exercise.points,
                                  error=f"{exercise.file} was not submitted")
        refused = self.refusal(files) if scanned else None  # before any of it runs: code that reaches for the grader
        if refused is not None:
            return self.refused(exercise, refused, started)
        learner = self.learner(exercise, files, limits)
        try:
            with secret.learner_code():  # never on inputs that public facts decide
                result = self.run_checks(exercise, learner)
        finally:
            learner.close()
        result.duration = time.perf_counter() - started
        return result

    def refusal(self, files: Mapping[str, str]) -> scan.Refusal | None:
        """What the source scan refuses in the files before any of them runs, or None."""
        return scan.scan(dict(files))

    def learner(self, exercise: Exercise, files: Mapping[str, str], limits: Limits | None = None) -> LearnerModule:
        """The learner's module of `exercise` in a sandbox worker, not loaded yet (close it)."""
        if self.sandbox is None:
            raise RuntimeError("this Grader has no sandbox: give it one to grade learner files")
        return LearnerModule(self.sandbox, exercise.module, dict(files), exercise.functions, exercise.forbidden, limits)

    def run_checks(self, exercise: Exercise, learner: Learner) -> ExerciseResult:
        """Every check of the exercise against a learner module that has been given its files."""
        with self.in_force():
            loaded = learner.load()
            if loaded.kind != "loaded":
                return self.unloadable(exercise, loaded)
            checks = [outcome for check in self.checks(exercise).all for outcome in self.run_check(check, learner, exercise)]
            tampering = getattr(learner, "tampering", None)
            if tampering:  # a check it passed may have been passed by the tampering: none counts
                feedback = Feedback(f"Your code tampered with the grader's machinery ({tampering}), so no check of "
                                    f"{exercise.file} counts. Learner code may not change how the grader observes it.")
                checks = [replace(c, outcome=Outcome.FAILED, feedback=feedback, misconception=None)
                          if c.outcome is Outcome.PASSED else c for c in checks]
            return self.summarise(exercise, checks)

    def run_check(self, check: Check, learner: Learner, exercise: Exercise) -> list[CheckResult]:
        """One check, on every device it runs on (a result each, cuda skipped where there is none)."""
        results = []
        with self.in_force():
            reference = self.reference(exercise)
            for device in (devices() if check.devices else ("cpu",)):
                check_id = f"{check.id}[{device}]" if check.devices else check.id
                started = time.perf_counter()
                outcome, feedback, misconception = Outcome.PASSED, None, None
                sent = ahead(check, learner, reference, exercise.functions, device)  # its calls sent at once
                try:
                    if not (isinstance(sent, Ahead) and sent.passes_by_replies()):  # the reference's very replies
                        check.run(CheckContext(check, sent, reference, device))
                except Failure as failure:
                    outcome, feedback, misconception = Outcome.FAILED, failure.feedback, failure.misconception
                except NotStarted:
                    outcome = Outcome.NOT_STARTED
                    feedback = Feedback(f"Not started: a function this check calls still raises NotImplementedError. Replace the `raise` under the TODO in {exercise.file}.")
                except Skip as skip:
                    outcome, feedback = Outcome.SKIPPED, Feedback(str(skip))
                except Exception as exc:  # noqa: BLE001 - a bug in a check must not stop grading
                    outcome = Outcome.ERROR
                    feedback = Feedback(f"The grader could not run this check ({type(exc).__name__}: {exc}); this is a bug in lossgrade, not in your code.")
                if isinstance(sent, Ahead):
                    sent.finish()  # the calls the check did not read: skipped, or their worker ended
                results.append(CheckResult(check_id, check.description, outcome, feedback, misconception,
                                           time.perf_counter() - started, check.weight))
                if check.devices:
                    results.extend(_skipped_devices(check))
        return results

    # ------------------------------------------------------------------------- the verdict
    def unloadable(self, exercise: Exercise, loaded: Reply) -> ExerciseResult:
        """Every check fails with the reason the module could not be imported."""
        if loaded.kind == "raised":
            where = f" (line {loaded.line})" if loaded.line else ""
            reason = f"{exercise.file} could not be imported: {loaded.error_type}{where}: {loaded.message}"
        else:
            reason = f"{exercise.file} could not be imported: {loaded.explain()}"
        if loaded.violations:
            reason += f" (it tried to {loaded.violations[0]})"
        feedback = Feedback(reason, got=loaded.where.strip() or None, output=loaded.output or None)
        checks = [CheckResult(c.id, c.description, Outcome.ERROR, feedback, weight=c.weight) for c in self.checks(exercise).all]
        return ExerciseResult(exercise.id, exercise.title, Status.ERROR, 0.0, exercise.points, checks, error=reason)

    def refused(self, exercise: Exercise, refusal: scan.Refusal, started: float | None = None) -> ExerciseResult:
        """Every check fails with the reason the source was refused (see sandbox/scan.py): an
        import of a module that is not there is the import error it would be ("error", as
        `unloadable` says of one the worker meets); code that reaches for the grader, a
        failure of every check."""
        status, outcome = (Status.ERROR, Outcome.ERROR) if refusal.unknown else (Status.FAILED, Outcome.FAILED)
        feedback = Feedback(refusal.message)
        checks = [CheckResult(c.id, c.description, outcome, feedback, weight=c.weight) for c in self.checks(exercise).all]
        duration = time.perf_counter() - started if started is not None else 0.0
        return ExerciseResult(exercise.id, exercise.title, status, 0.0, exercise.points, checks, error=refusal.message,
                              duration=duration)

    def summarise(self, exercise: Exercise, checks: list[CheckResult]) -> ExerciseResult:
        """The exercise's result from its checks' results: the score counts their weights,
        skipped checks aside."""
        counted = [c for c in checks if c.outcome is not Outcome.SKIPPED]
        total = sum(c.weight for c in counted) or 1.0
        passed = sum(c.weight for c in counted if c.outcome is Outcome.PASSED)
        if all(c.outcome is Outcome.NOT_STARTED for c in counted):
            status = Status.NOT_STARTED
        elif passed == total:
            status = Status.PASSED
        else:
            status = Status.FAILED
        score = round(exercise.points * passed / total, 2)
        return ExerciseResult(exercise.id, exercise.title, status, score, exercise.points, checks)


def _skipped_devices(check: Check) -> list[CheckResult]:
    if "cuda" in devices():
        return []
    return [CheckResult(f"{check.id}[cuda]", check.description, Outcome.SKIPPED,
                        Feedback("Skipped: CUDA is not available on this machine (torch.cuda.is_available() is False)."),
                        weight=check.weight)]

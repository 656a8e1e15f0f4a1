"""Grade one learner's exercise: load their module in a sandbox worker, run every check on
every device, and turn what happened into an `ExerciseResult`.

Nothing the learner's code does can reach this process: a failing import, a crash, a hang
or a lie all arrive here as data, and the verdict is computed here.
"""
from __future__ import annotations

import functools
import time
from pathlib import Path
from types import ModuleType

from lossgrade import catalog, course, pyfiles
from lossgrade.checks import secret
from lossgrade.checks.ahead import Ahead, ahead
from lossgrade.checks.framework import Check, CheckContext, Checks, Failure, Learner, NotStarted, Skip
from lossgrade.results import CheckResult, ExerciseResult, Feedback, Outcome, Status
from lossgrade.sandbox.client import Limits, Sandbox
from lossgrade.sandbox import scan
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


def checks_for(exercise: catalog.Exercise) -> Checks:
    """The exercise's checks, where the course in force keeps them (see `Course.checks`)."""
    return course.current().checks(exercise)


@functools.lru_cache(maxsize=None)
def reference(exercise: catalog.Exercise) -> ModuleType:
    """The reference solution, imported here in the trusted process (never in a worker)."""
    path = course.current().reference_file(exercise)
    return pyfiles.load(f"lossgrade_reference_{exercise.module}", path, search=path.parent)


def learner_files(folder: Path, exercise: catalog.Exercise) -> dict[str, str] | None:
    """The learner's source of this exercise and of the exercise files it may import,
    or None when the exercise file is missing. Undecodable bytes are kept visible."""
    main = folder / exercise.file
    if not main.is_file():
        return None
    files = {}
    for name in (exercise.file, *(f"{m}.py" for m in exercise.allowed_imports)):
        path = folder / name
        if path.is_file():
            files[name] = path.read_bytes().decode("utf-8", errors="replace")
    return files


def grade_exercise(sandbox: Sandbox, exercise: catalog.Exercise, files: dict[str, str] | None, limits: Limits | None = None,
                   scanned: bool = True) -> ExerciseResult:
    """Grade learner files. `scanned=False` skips the source scan: only for tests of the walls
    behind it (the worker's guards, the kernel's), never for grading."""
    started = time.perf_counter()
    if files is None:
        return ExerciseResult(exercise.id, exercise.title, Status.NOT_SUBMITTED, 0.0, exercise.points,
                              error=f"{exercise.file} was not submitted")
    refused = _scanned(tuple(files.items())) if scanned else None  # before any of it runs: code that reaches for the grader
    if refused is not None:
        return _refused(exercise, refused.message, started)
    learner = LearnerModule(sandbox, exercise.module, files, exercise.functions, exercise.forbidden, limits)
    try:
        with secret.learner_code():  # never on inputs that public facts decide
            result = run_checks(exercise, learner)
    finally:
        learner.close()
    result.duration = time.perf_counter() - started
    return result


@functools.lru_cache(maxsize=2048)
def _scanned(files: tuple[tuple[str, str], ...]) -> scan.Refusal | None:
    """The scan's verdict on these sources, once per grader process: it reads the text alone,
    and a class repeats itself (untouched stubs, shared files)."""
    return scan.scan(dict(files))


def run_checks(exercise: catalog.Exercise, learner: Learner) -> ExerciseResult:
    """Every check of the exercise against a learner module that has been given its files."""
    loaded = learner.load()
    if loaded.kind != "loaded":
        return _unloadable(exercise, loaded)
    return _summarise(exercise, [outcome for check in checks_for(exercise).all for outcome in _run(check, learner, exercise)])


def _run(check: Check, learner: Learner, exercise: catalog.Exercise) -> list[CheckResult]:
    results = []
    for device in (devices() if check.devices else ("cpu",)):
        check_id = f"{check.id}[{device}]" if check.devices else check.id
        started = time.perf_counter()
        outcome, feedback, misconception = Outcome.PASSED, None, None
        sent = ahead(check, learner, reference(exercise), exercise.functions, device)  # its calls sent at once
        try:
            check.run(CheckContext(check, sent, reference(exercise), device))
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


def _skipped_devices(check: Check) -> list[CheckResult]:
    if "cuda" in devices():
        return []
    return [CheckResult(f"{check.id}[cuda]", check.description, Outcome.SKIPPED,
                        Feedback("Skipped: CUDA is not available on this machine (torch.cuda.is_available() is False)."),
                        weight=check.weight)]


def _unloadable(exercise: catalog.Exercise, loaded: Reply) -> ExerciseResult:
    """Every check fails with the reason the module could not be imported."""
    if loaded.kind == "raised":
        where = f" (line {loaded.line})" if loaded.line else ""
        reason = f"{exercise.file} could not be imported: {loaded.error_type}{where}: {loaded.message}"
    else:
        reason = f"{exercise.file} could not be imported: {loaded.explain()}"
    if loaded.violations:
        reason += f" (it tried to {loaded.violations[0]})"
    feedback = Feedback(reason, got=loaded.where.strip() or None, output=loaded.output or None)
    checks = [
        CheckResult(c.id, c.description, Outcome.ERROR, feedback, weight=c.weight)
        for c in checks_for(exercise).all
    ]
    return ExerciseResult(exercise.id, exercise.title, Status.ERROR, 0.0, exercise.points, checks, error=reason)


def _refused(exercise: catalog.Exercise, reason: str, started: float) -> ExerciseResult:
    """Every check fails with the reason the source was refused (see sandbox/scan.py)."""
    feedback = Feedback(reason)
    checks = [CheckResult(c.id, c.description, Outcome.FAILED, feedback, weight=c.weight) for c in checks_for(exercise).all]
    return ExerciseResult(exercise.id, exercise.title, Status.FAILED, 0.0, exercise.points, checks, error=reason,
                          duration=time.perf_counter() - started)


def _summarise(exercise: catalog.Exercise, checks: list[CheckResult]) -> ExerciseResult:
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

"""Grading a learner's workspace: the one entry point that `check`, `list`, `watch`,
`report` and the Python API share, so they always agree.

The sandbox's zygote is started before the grader imports torch and its checks, so the two
imports overlap on two cores.
"""
from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Iterable

from lossgrade.course import catalog
from lossgrade import course
from lossgrade.core.errors import LossgradeError
from lossgrade.core.results import ExerciseResult, Status, exercise_from_dict, to_dict
from lossgrade.sandbox.budget import submission_budget
from lossgrade.sandbox.client import Limits, Sandbox
from lossgrade.course.workspace import Workspace


def open_sandbox(exercises: Iterable[catalog.Exercise] | None = None, strong: bool = False, limits: Limits | None = None,
                 hidden: Iterable[Path] = (), within: course.Course | None = None) -> Sandbox:
    """A sandbox that can enforce every exercise's "from scratch" rules, warmed up for
    the exercises it will grade (all of them when None), of the course `within` (default:
    the one in force). Learner code may not read `hidden` (a class's submissions, the
    results), nor any course folder's reference solutions, which the sandbox always hides.
    The course's drivers files are sent to it, to run beside learner code."""
    within = within or course.current()
    forbidden = tuple(sorted({name for e in within.exercises for name in e.forbidden}))
    warm = tuple(sorted({part for e in (exercises or within.exercises) for part in e.warm}))
    paths = tuple(Path(p).resolve() for p in (*hidden, *within.hidden_paths()))
    return Sandbox(forbidden=forbidden, limits=limits or Limits(), strong=strong, hidden_paths=paths, warm=warm,
                   drivers=within.driver_sources())


def grade_folder(sandbox: Sandbox, folder: Path, exercises: Iterable[catalog.Exercise],
                 within: course.Course | None = None) -> list[ExerciseResult]:
    """Grade the exercises' files in a learner's `folder` (a workspace) with the course
    `within` (default: the one in force), under the workspace's grading secret."""
    from lossgrade.checks import secret
    from lossgrade.course.workspace import STATE_DIR
    from lossgrade.grading.files import Files
    from lossgrade.grading.grader import Grader  # imports torch and the checks: after the zygote started

    try:
        key = secret.load_or_create_secret(folder / STATE_DIR / secret.SECRET_FILE)
    except LossgradeError:
        key = None  # a workspace that cannot keep one: this process's own secret serves
    # one budget for all of a learner's calls
    with submission_budget(sandbox.limits.budget_seconds), secret.chosen(key) if key else contextlib.nullcontext():
        grader = Grader(within or course.current(), sandbox)
        return [grader.grade(e, Files.in_folder(folder, e)) for e in exercises]


def file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def remember(workspace: Workspace, results: list[ExerciseResult], current: str | None = None) -> None:
    """Keep each result with the digest of the file it graded, for `list` and `report`."""
    saved = workspace.load_state().get("results", {})
    for result in results:
        exercise = catalog.resolve(result.exercise)
        saved[result.exercise] = {"digest": file_digest(workspace.exercise_file(exercise)), "result": to_dict(result)}
    changes: dict[str, object] = {"results": saved}
    if current:
        changes["current"] = current
    workspace.update_state(**changes)


def remembered(workspace: Workspace, exercise: catalog.Exercise) -> ExerciseResult | None:
    """The last result for this exercise, if its file has not changed since."""
    entry = workspace.load_state().get("results", {}).get(exercise.id)
    if not entry or entry.get("digest") != file_digest(workspace.exercise_file(exercise)):
        return None
    try:
        return exercise_from_dict(entry["result"])
    except (KeyError, TypeError, ValueError):
        return None


def stub_untouched(workspace: Workspace, exercise: catalog.Exercise) -> bool:
    return file_digest(workspace.exercise_file(exercise)) == file_digest(exercise.stub_path)


def progress(workspace: Workspace) -> list[ExerciseResult]:
    """Every exercise's current status, grading only files that changed since last time."""
    known: dict[str, ExerciseResult] = {}
    stale = []
    for exercise in catalog.exercises():
        if not workspace.exercise_file(exercise).is_file():
            known[exercise.id] = ExerciseResult(exercise.id, exercise.title, Status.NOT_SUBMITTED, 0.0, exercise.points,
                                                error=f"{exercise.file} is not in the workspace")
        elif stub_untouched(workspace, exercise):
            known[exercise.id] = ExerciseResult(exercise.id, exercise.title, Status.NOT_STARTED, 0.0, exercise.points)
        elif (previous := remembered(workspace, exercise)) is not None:
            known[exercise.id] = previous
        else:
            stale.append(exercise)
    if stale:
        with open_sandbox(stale) as sandbox:
            fresh = grade_folder(sandbox, workspace.root, stale)
        remember(workspace, fresh)
        known.update({r.exercise: r for r in fresh})
    return [known[e.id] for e in catalog.exercises()]

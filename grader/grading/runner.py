"""The grading core for the course in force (`course.current()`), for callers that are handed
no course: the tests, the benchmarks and `.ci/device-check`. Each function is one line over
`Grader` and `Files` (lossgrade.grading.grader, .files), where grading is written once;
front-ends build a `Grader` of the course they were handed.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from lossgrade import course
from lossgrade.checks.framework import Checks, Learner
from lossgrade.core.results import ExerciseResult
from lossgrade.course.catalog import Exercise
from lossgrade.grading.files import Files
from lossgrade.grading.grader import Grader, devices
from lossgrade.sandbox.client import Limits, Sandbox

__all__ = ["checks_for", "devices", "grade_exercise", "learner_files", "reference", "run_checks"]


def checks_for(exercise: Exercise) -> Checks:
    return Grader(course.current()).checks(exercise)


def reference(exercise: Exercise) -> ModuleType:
    return Grader(course.current()).reference(exercise)


def learner_files(folder: Path, exercise: Exercise) -> Files | None:
    return Files.in_folder(folder, exercise)


def grade_exercise(sandbox: Sandbox, exercise: Exercise, files: Mapping[str, str] | None, limits: Limits | None = None,
                   scanned: bool = True) -> ExerciseResult:
    return Grader(course.current(), sandbox).grade(exercise, files, limits, scanned=scanned)


def run_checks(exercise: Exercise, learner: Learner) -> ExerciseResult:
    return Grader(course.current()).run_checks(exercise, learner)

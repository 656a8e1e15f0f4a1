"""Shared fixtures: one sandbox for the whole session (its zygote imports torch once), and
helpers to grade source text or an in-process module against an exercise's checks."""
from __future__ import annotations

import types
from pathlib import Path
from typing import Callable, Iterator

import pytest

from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.core.results import ExerciseResult
from lossgrade.sandbox.client import Sandbox
from lossgrade.sandbox.inprocess import InProcessLearner
from lossgrade.grading.service import open_sandbox

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with open_sandbox() as box:
        yield box


@pytest.fixture
def grade_source(sandbox: Sandbox) -> Callable[..., ExerciseResult]:
    """grade_source("ex01", "def mse_loss(...): ...", extra_files={...}) -> ExerciseResult"""

    def grade(exercise_id: str, source: str, extra_files: dict[str, str] | None = None) -> ExerciseResult:
        exercise = catalog.resolve(exercise_id)
        return runner.grade_exercise(sandbox, exercise, {exercise.file: source, **(extra_files or {})})

    return grade


def grade_inprocess(exercise_id: str, functions: dict[str, Callable[..., object]]) -> ExerciseResult:
    """Grade functions of ours (never learner code) without a sandbox: the reference module
    with some functions replaced, e.g. by a catalogued wrong implementation."""
    exercise = catalog.resolve(exercise_id)
    module = types.ModuleType(f"inprocess_{exercise.module}")
    module.__dict__.update(vars(runner.reference(exercise)))
    module.__dict__.update(functions)
    return runner.run_checks(exercise, InProcessLearner(module, exercise.functions))

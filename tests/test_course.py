"""The course checks itself (rustlings' `dev check`): every reference solution passes every
check, every untouched stub fails every check as "not started", not as a crash."""
from __future__ import annotations

import pytest

from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.core.results import Outcome, Status

EXERCISES = [e.id for e in catalog.exercises()]


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_reference_solution_passes_every_check(sandbox, exercise_id):
    exercise = catalog.resolve(exercise_id)
    result = runner.grade_exercise(sandbox, exercise, runner.learner_files(exercise.solution_path.parent, exercise))
    failed = [(c.id, c.feedback.message if c.feedback else "") for c in result.checks
              if c.outcome not in (Outcome.PASSED, Outcome.SKIPPED)]
    assert failed == []
    assert result.status is Status.PASSED
    assert result.score == exercise.points


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_untouched_stub_fails_every_check_as_not_started(sandbox, exercise_id):
    exercise = catalog.resolve(exercise_id)
    result = runner.grade_exercise(sandbox, exercise, runner.learner_files(exercise.stub_path.parent, exercise))
    outcomes = {c.outcome for c in result.checks} - {Outcome.SKIPPED}
    assert outcomes == {Outcome.NOT_STARTED}
    assert result.status is Status.NOT_STARTED
    assert result.score == 0


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_exercise_has_checks_hints_and_a_todo(exercise_id):
    exercise = catalog.resolve(exercise_id)
    assert runner.checks_for(exercise).all, "an exercise without checks cannot be graded"
    assert len(exercise.hints) >= 2
    assert "TODO" in exercise.stub_path.read_text()
    assert exercise.solution_path.is_file()

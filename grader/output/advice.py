"""What a learner should do next, read off their results.

A report that only says "68 %" leaves a self-study learner to work out where to start; these
few concrete steps (fix what cannot run, then the first failing check, then the myth behind
a misconception, then what is not started yet) give them one. Text in `backticks` is a
command or code, shown as such by the HTML templates.
"""
from __future__ import annotations

from lossgrade.core.results import Outcome, Status, SubmissionResult

MOST_STEPS = 5
_WAITING = (Status.NOT_STARTED, Status.NOT_SUBMITTED)


def next_steps(result: SubmissionResult) -> list[str]:
    """At most `MOST_STEPS` suggestions, the most urgent first."""
    steps: list[str] = []
    if result.error:
        steps.append(f"Fix the submission itself: {result.error}")
    for exercise in result.exercises:
        if exercise.status is Status.ERROR:
            reason = f" ({exercise.error})" if exercise.error else ""
            steps.append(
                f"Make {exercise.exercise} run again{reason}, "
                f"then run `lossgrade check {exercise.exercise}`."
            )
    failed = [e for e in result.exercises if e.status is Status.FAILED]
    if failed:
        exercise = failed[0]
        check = next((c for c in exercise.checks if c.outcome is not Outcome.PASSED), None)
        what = f"the first check to fix is “{check.description}”" if check else "it fails"
        steps.append(
            f"Continue with {exercise.exercise} ({exercise.title}): {what}. "
            f"Run `lossgrade check {exercise.exercise}`, "
            f"and `lossgrade hint {exercise.exercise}` if you are stuck."
        )
    for exercise in result.exercises:
        for misconception in exercise.misconceptions:
            if misconception.quiz:
                quiz_id = misconception.quiz.split("#", 1)[0]
                steps.append(
                    f"Bust the myth behind “{misconception.name}”: `lossgrade quiz {quiz_id}`."
                )
    waiting = [e for e in result.exercises if e.status in _WAITING]
    if waiting:
        exercise = waiting[0]
        steps.append(
            f"Start {exercise.exercise} ({exercise.title}): `lossgrade check {exercise.exercise}`."
        )
    for quiz in result.quizzes:
        if any(not question.correct for question in quiz.questions):
            steps.append(f"Retake the quiz “{quiz.title}”: `lossgrade quiz {quiz.quiz}`.")
    if not steps:
        steps.append("Everything passes. Try `lossgrade quiz` to test the myths once more.")
    return list(dict.fromkeys(steps))[:MOST_STEPS]

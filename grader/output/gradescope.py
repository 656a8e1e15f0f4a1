"""Gradescope's `results.json` for one learner, from their result.

The format is Gradescope's autograder specification: a top-level `score` (which overrides
the sum of the tests, so rounding can never change a grade), `output` for the submission
as a whole, and `tests`, one per check (its share of the exercise's points, `passed` or
`failed`, the feedback as `output`) and one per quiz. An exercise with nothing to check
(not submitted, not importable) is one test worth its points with the reason as output.
"""
from __future__ import annotations

import lossgrade
from lossgrade.course import catalog
from lossgrade.output.gradebook import points, quiz_status
from lossgrade.grading.records import Record
from lossgrade.core.results import CheckResult, ExerciseResult, Outcome, QuizResult

Test = dict[str, object]


def results(record: Record) -> dict[str, object]:
    result = record.result
    tests: list[Test] = []
    for exercise in result.exercises:
        tests += _exercise_tests(exercise)
    tests += [_quiz_test(number, quiz) for number, quiz in enumerate(result.quizzes, start=1)]
    lines = [f"{record.learner}: {points(result.score)}/{points(result.max_score)} points."]
    if result.error:
        lines.append(f"This submission could not be graded: {result.error}")
    lines += [f"Note: {note}" for note in record.notes]
    lines += [f"Not graded: {path} ({why})" for path, why in record.ignored.items()]
    return {
        "score": round(result.score, 2),
        "output": "\n".join(lines),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"learner": record.learner, "grader": f"lossgrade {lossgrade.__version__}"},
    }


def _visibility(exercise_id: str) -> str:
    """The exercise's visibility from the course metadata (Gradescope's own words)."""
    for exercise in catalog.exercises():
        if exercise.id == exercise_id:
            return exercise.visibility
    return "visible"


def _exercise_tests(exercise: ExerciseResult) -> list[Test]:
    number = exercise.exercise.removeprefix("ex").lstrip("0") or "0"
    visibility = _visibility(exercise.exercise)
    counted = [c for c in exercise.checks if c.outcome is not Outcome.SKIPPED]
    if not counted:
        return [_test(f"{exercise.exercise} · {exercise.title}", number, exercise.score, exercise.max_score,
                      exercise.status.value == "passed", exercise.error or exercise.status.value, [exercise.exercise],
                      visibility)]
    total = sum(c.weight for c in counted) or 1.0
    tests = []
    for index, check in enumerate(counted, start=1):
        share = exercise.max_score * check.weight / total
        passed = check.outcome is Outcome.PASSED
        tags = [exercise.exercise] + ([check.misconception.id] if check.misconception else [])
        tests.append(_test(f"{exercise.exercise} · {check.description}{_device(check)}", f"{number}.{index}",
                           share if passed else 0.0, share, passed, check_text(check), tags, visibility))
    return tests


def _device(check: CheckResult) -> str:
    return f" [{check.id.rpartition('[')[2].rstrip(']')}]" if check.id.endswith("]") else ""


def _test(name: str, number: str, score: float, max_score: float, passed: bool, output: str, tags: list[str],
          visibility: str = "visible") -> Test:
    return {"name": name, "number": number, "score": round(score, 4), "max_score": round(max_score, 4),
            "status": "passed" if passed else "failed", "output": output, "output_format": "text",
            "tags": tags, "visibility": visibility}


def check_text(check: CheckResult) -> str:
    """Everything a learner reads about one check, as plain text."""
    if check.outcome is Outcome.PASSED:
        return "Passed."
    lines = [f"{check.outcome.value.capitalize()}."]
    feedback = check.feedback
    if feedback:
        lines.append(feedback.message)
        lines += [f"{label}: {value}" for label, value in (("Call", feedback.call), ("Got", feedback.got),
                                                           ("Expected", feedback.expected), ("Hint", feedback.hint))
                  if value]
        if feedback.output:
            lines.append(f"Your code printed:\n{feedback.output}")
    if check.misconception:
        lines.append(f"Known misconception: {check.misconception.name}. {check.misconception.message}")
        if check.misconception.quiz:
            lines.append(f"The quiz question {check.misconception.quiz} busts this myth.")
    return "\n".join(lines)


def _quiz_test(number: int, quiz: QuizResult) -> Test:
    if quiz.error:
        output = quiz.error
    else:
        output = "\n".join(
            f"{'✓' if q.correct else '✗'} {q.id}" + ("" if q.correct else f": the myth: {q.myth} The reality: {q.reality}")
            for q in quiz.questions
        )
    return _test(f"Quiz · {quiz.title}", f"Q{number}", quiz.score, quiz.max_score, quiz_status(quiz) == "passed",
                 output, ["quiz", quiz.quiz])

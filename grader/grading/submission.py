"""Grade one discovered submission, in a trusted grader process: every gradable exercise
(each in a fresh sandbox worker, so one exercise's code never touches another's grade) and
every quiz of the course.

An exercise file that is missing scores 0 as "not submitted", one that does not import
scores 0 with the import error; a quiz the answers file does not mention scores 0 with every
question unanswered. A submission that could not be read at all gets an error on every line.
"""
from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lossgrade import course
from lossgrade.course import catalog
from lossgrade.grading.discover import QUIZ_ANSWERS, Submission
from lossgrade.grading.files import Files
from lossgrade.core.errors import LossgradeError
from lossgrade.core.results import ExerciseResult, QuizResult, Status, SubmissionResult
from lossgrade.sandbox.budget import submission_budget
from lossgrade.sandbox.client import Sandbox
from lossgrade.sandbox.learner import one_learner

if TYPE_CHECKING:
    from lossgrade.quiz.model import Quiz


def gradable() -> list[catalog.Exercise]:
    """The exercises of the course in force that have checks (a course under construction
    may lack some)."""
    from lossgrade.grading.grader import Grader

    return Grader(course.current()).gradable()


def grade(sandbox: Sandbox, submission: Submission, exercises: Sequence[catalog.Exercise]) -> SubmissionResult:
    from lossgrade.grading.grader import Grader

    grader = Grader(course.current(), sandbox)
    if submission.problem:
        return unreadable(submission, exercises, f"not graded: {submission.problem}")
    results = []
    # one budget for all of a submission's calls; one worker for its exercises, in turn
    with submission_budget(sandbox.limits.budget_seconds), one_learner(sandbox):
        for exercise in exercises:
            if exercise.file in submission.rejected:
                results.append(_error(exercise, submission.rejected[exercise.file]))
            else:
                results.append(grader.grade(exercise, sources(submission, exercise)))
    return SubmissionResult(submission.learner, results, quizzes(submission))


def sources(submission: Submission, exercise: catalog.Exercise) -> Files | None:
    """The exercise's files in the submission, or None when it was not submitted."""
    return Files.from_bytes(exercise, submission.files, f"{submission.learner}'s submission ({submission.source})")


def unreadable(submission: Submission, exercises: Sequence[catalog.Exercise], reason: str) -> SubmissionResult:
    """Zero everywhere, with the reason on every line, for a submission that cannot be graded."""
    quiz_results = [QuizResult(q.id, q.title, 0.0, float(len(q.questions)), error=reason) for q in _course_quizzes()]
    return SubmissionResult(submission.learner, [_error(e, reason) for e in exercises], quiz_results, error=reason)


def _error(exercise: catalog.Exercise, reason: str) -> ExerciseResult:
    return ExerciseResult(exercise.id, exercise.title, Status.ERROR, 0.0, exercise.points, error=reason)


def _course_quizzes() -> list[Quiz]:
    from lossgrade.quiz import library

    return list(library.quizzes().values())


def quizzes(submission: Submission) -> list[QuizResult]:
    """A result for every quiz of the course, answered or not."""
    from lossgrade.quiz import grade_answers_file, grading

    course_quizzes = _course_quizzes()
    answered: dict[str, QuizResult] = {}
    if QUIZ_ANSWERS in submission.rejected:
        reason = submission.rejected[QUIZ_ANSWERS]
        return [QuizResult(q.id, q.title, 0.0, float(len(q.questions)), error=reason) for q in course_quizzes]
    if QUIZ_ANSWERS in submission.files:
        with tempfile.TemporaryDirectory(prefix="lossgrade-answers-") as folder:
            path = Path(folder) / QUIZ_ANSWERS
            path.write_bytes(submission.files[QUIZ_ANSWERS])
            try:
                answered = {r.quiz: r for r in grade_answers_file(path)}
            except LossgradeError as exc:  # a typo in the file: say where, mark nothing
                reason = exc.message.replace(str(path), QUIZ_ANSWERS)
                return [QuizResult(q.id, q.title, 0.0, float(len(q.questions)), error=reason) for q in course_quizzes]
    return [answered.get(q.id) or grading.grade(q, {}) for q in course_quizzes]


"""What of their results a learner may see now, by each exercise's visibility in the course
(Gradescope's words, from `info.yaml`), for the reports that reach learners: batch
grading's `learners/<learner>.html`. The instructor's class report, the gradebook and
Gradescope's `results.json` (which applies visibility itself) keep everything.

- `visible`: shown.
- `after_due_date`: shown once the exercise's due date has passed; until then (or while the
  course sets no due date) withheld. Grading again after the date rewrites the reports.
- `after_published`: shown. lossgrade has no publishing step of its own: handing these
  reports to learners is the publishing.
- `hidden`: withheld, always: the points are for the instructor's gradebook.

A withheld exercise is left out of the learner's copy altogether (its checks, its
misconceptions, its points, the advice read off it) and named in a sentence instead, so
that nothing on the page lets a learner probe checks they are not meant to see yet.
"""
from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass, field

from lossgrade.course import catalog
from lossgrade.core.errors import LossgradeError
from lossgrade.core.results import ExerciseResult, SubmissionResult


@dataclass
class LearnerView:
    result: SubmissionResult  # what the learner may see
    withheld: list[str] = field(default_factory=list)  # a sentence per exercise left out


def for_learner(result: SubmissionResult, now: datetime.datetime) -> LearnerView:
    """The learner's copy of `result` at `now` (an aware datetime)."""
    shown: list[ExerciseResult] = []
    withheld: list[str] = []
    for exercise_result in result.exercises:
        why = _withheld_because(exercise_result.exercise, now)
        if why is None:
            shown.append(exercise_result)
        else:
            withheld.append(f"{exercise_result.exercise} ({exercise_result.title}): {why}.")
    return LearnerView(dataclasses.replace(result, exercises=shown), withheld)


def _withheld_because(exercise_id: str, now: datetime.datetime) -> str | None:
    try:
        exercise = catalog.resolve(exercise_id)
    except LossgradeError:  # graded under a course that no longer lists it: nothing says to hide it
        return None
    if exercise.visibility == "hidden":
        return "its results go to your instructor only"
    if exercise.visibility == "after_due_date":
        if exercise.due is None:
            return "its results are released after its due date, which the course has not set yet"
        if now < exercise.due:
            return f"its results are released after its due date, {exercise.due.astimezone(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
    return None

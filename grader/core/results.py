"""The result model: plain dataclasses that grading produces and every renderer reads.

Nothing here runs learner code or knows how a check works; terminal, JSON, CSV, Gradescope
and HTML output are all built from these objects (or from their JSON form, which
`from_dict` turns back into them, so a gradebook on disk can be re-rendered later).
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any


class Outcome(str, enum.Enum):
    """How one check ended."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_STARTED = "not started"  # the learner's function still raises NotImplementedError
    ERROR = "error"  # the learner's code could not be run at all (syntax, import, crash)
    SKIPPED = "skipped"  # e.g. a CUDA check on a machine without CUDA


class Status(str, enum.Enum):
    """How one exercise ended, as a whole."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_STARTED = "not started"
    NOT_SUBMITTED = "not submitted"
    ERROR = "error"


@dataclass
class Misconception:
    """A known learner mistake that the wrong answer matched (see grader/misconceptions)."""

    id: str
    name: str
    message: str
    quiz: str | None = None  # "quiz-id#question-id" of the question that busts the myth


@dataclass
class Feedback:
    """What a learner reads under a failed check: the call, what came back, what was
    expected, why it matters and a hint."""

    message: str
    call: str | None = None
    got: str | None = None
    expected: str | None = None
    hint: str | None = None
    output: str | None = None  # what the learner's code printed, trimmed


@dataclass
class CheckResult:
    id: str  # "ex03.cross_entropy_reductions[cpu]"
    description: str  # the sentence the learner reads
    outcome: Outcome
    feedback: Feedback | None = None
    misconception: Misconception | None = None
    duration: float = 0.0
    weight: float = 1.0


@dataclass
class ExerciseResult:
    exercise: str
    title: str
    status: Status
    score: float
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None  # why nothing could be checked (not submitted, syntax error...)
    duration: float = 0.0

    @property
    def misconceptions(self) -> list[Misconception]:
        """Each distinct misconception met in this exercise, in check order."""
        seen: dict[str, Misconception] = {}
        for check in self.checks:
            if check.misconception and check.misconception.id not in seen:
                seen[check.misconception.id] = check.misconception
        return list(seen.values())


@dataclass
class QuestionResult:
    id: str
    prompt: str
    correct: bool
    given: Any
    expected: Any
    myth: str
    reality: str


@dataclass
class QuizResult:
    quiz: str
    title: str
    score: float
    max_score: float
    questions: list[QuestionResult] = field(default_factory=list)
    error: str | None = None


@dataclass
class SubmissionResult:
    learner: str
    exercises: list[ExerciseResult] = field(default_factory=list)
    quizzes: list[QuizResult] = field(default_factory=list)
    error: str | None = None  # a problem with the submission as a whole (corrupt zip...)

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises) + sum(q.score for q in self.quizzes)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises) + sum(q.max_score for q in self.quizzes)


def to_dict(result: Any) -> Any:
    """JSON-ready form of any result object (enums become their string values)."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        data = {f.name: to_dict(getattr(result, f.name)) for f in dataclasses.fields(result)}
        if isinstance(result, ExerciseResult):
            data["misconceptions"] = [to_dict(m) for m in result.misconceptions]
        return data
    if isinstance(result, enum.Enum):
        return result.value
    if isinstance(result, (list, tuple)):
        return [to_dict(item) for item in result]
    if isinstance(result, dict):
        return {key: to_dict(value) for key, value in result.items()}
    return result


def _build(cls: type, data: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{key: value for key, value in data.items() if key in names})


def check_from_dict(data: dict[str, Any]) -> CheckResult:
    check = _build(CheckResult, data)
    check.outcome = Outcome(check.outcome)
    check.feedback = _build(Feedback, data["feedback"]) if data.get("feedback") else None
    check.misconception = (
        _build(Misconception, data["misconception"]) if data.get("misconception") else None
    )
    return check


def exercise_from_dict(data: dict[str, Any]) -> ExerciseResult:
    exercise = _build(ExerciseResult, data)
    exercise.status = Status(exercise.status)
    exercise.checks = [check_from_dict(c) for c in data.get("checks", [])]
    return exercise


def quiz_from_dict(data: dict[str, Any]) -> QuizResult:
    quiz = _build(QuizResult, data)
    quiz.questions = [_build(QuestionResult, q) for q in data.get("questions", [])]
    return quiz


def submission_from_dict(data: dict[str, Any]) -> SubmissionResult:
    submission = _build(SubmissionResult, data)
    submission.exercises = [exercise_from_dict(e) for e in data.get("exercises", [])]
    submission.quizzes = [quiz_from_dict(q) for q in data.get("quizzes", [])]
    return submission

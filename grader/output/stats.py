"""Class statistics for the instructor's report, as pure functions over result objects.

An instructor asks: which exercises and checks trip the class up, which misconceptions are
common (counted once per learner, since one learner failing a check on cpu and on cuda is
one learner with that mistake), and which myth-buster questions are most often missed.
Everything keeps the order the course gives (first seen), except rankings, which sort by
how many learners they concern.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from lossgrade.core.results import (
    Misconception,
    Outcome,
    QuestionResult,
    Status,
    SubmissionResult,
)


def percent(score: float, max_score: float) -> float:
    """`score` as a percentage of `max_score`; nothing to earn counts as 0 %, not an error."""
    return 100.0 * score / max_score if max_score > 0 else 0.0


@dataclass
class Rate:
    """How many of `total` passed; `total` leaves out checks that were skipped."""

    passed: int = 0
    total: int = 0

    @property
    def percent(self) -> float:
        return percent(self.passed, self.total)


@dataclass(frozen=True)
class ClassSummary:
    learners: int
    mean_percent: float
    median_percent: float
    all_passed: int  # learners who passed every exercise they were given


@dataclass
class ExerciseStat:
    exercise: str
    title: str
    rate: Rate = field(default_factory=Rate)
    percents: list[float] = field(default_factory=list)

    @property
    def mean_percent(self) -> float:
        return statistics.fmean(self.percents) if self.percents else 0.0


@dataclass
class CheckStat:
    exercise: str
    id: str
    description: str
    rate: Rate = field(default_factory=Rate)


@dataclass
class MisconceptionStat:
    misconception: Misconception
    learners: int = 0
    exercises: list[str] = field(default_factory=list)


@dataclass
class QuestionStat:
    quiz: str
    quiz_title: str
    question: QuestionResult  # the first learner's copy: prompt, expected answer, myth
    missed: int = 0
    answered: int = 0  # learners who gave an answer; those who did not are `unanswered`, never missed
    unanswered: int = 0


def learner_percents(results: Sequence[SubmissionResult]) -> list[float]:
    return [percent(result.score, result.max_score) for result in results]


def summary(results: Sequence[SubmissionResult]) -> ClassSummary:
    percents = learner_percents(results)
    return ClassSummary(
        learners=len(results),
        mean_percent=statistics.fmean(percents) if percents else 0.0,
        median_percent=statistics.median(percents) if percents else 0.0,
        all_passed=sum(
            1
            for result in results
            if result.exercises and all(e.status is Status.PASSED for e in result.exercises)
        ),
    )


def exercise_stats(results: Sequence[SubmissionResult]) -> list[ExerciseStat]:
    """Per exercise: how many learners passed it and their mean score, in course order."""
    stats: dict[str, ExerciseStat] = {}
    for result in results:
        for exercise in result.exercises:
            stat = stats.setdefault(
                exercise.exercise, ExerciseStat(exercise.exercise, exercise.title)
            )
            stat.rate.total += 1
            stat.rate.passed += exercise.status is Status.PASSED
            stat.percents.append(percent(exercise.score, exercise.max_score))
    return list(stats.values())


def check_stats(results: Sequence[SubmissionResult]) -> list[CheckStat]:
    """Per check id: how many of the learners who ran it passed, in course order."""
    stats: dict[str, CheckStat] = {}
    for result in results:
        for exercise in result.exercises:
            for check in exercise.checks:
                if check.outcome is Outcome.SKIPPED:
                    continue
                stat = stats.setdefault(
                    check.id, CheckStat(exercise.exercise, check.id, check.description)
                )
                stat.rate.total += 1
                stat.rate.passed += check.outcome is Outcome.PASSED
    return list(stats.values())


def misconception_stats(results: Sequence[SubmissionResult]) -> list[MisconceptionStat]:
    """Each misconception met, with how many learners met it, most common first."""
    stats: dict[str, MisconceptionStat] = {}
    for result in results:
        met: set[str] = set()
        for exercise in result.exercises:
            for misconception in exercise.misconceptions:
                stat = stats.setdefault(misconception.id, MisconceptionStat(misconception))
                if exercise.exercise not in stat.exercises:
                    stat.exercises.append(exercise.exercise)
                met.add(misconception.id)
        for key in met:
            stats[key].learners += 1
    return sorted(stats.values(), key=lambda stat: -stat.learners)


def question_stats(results: Sequence[SubmissionResult]) -> list[QuestionStat]:
    """Quiz questions that at least one learner answered wrongly, most often missed first;
    a learner who did not answer (or never took the quiz) has not missed it."""
    stats: dict[tuple[str, str], QuestionStat] = {}
    for result in results:
        for quiz in result.quizzes:
            for question in quiz.questions:
                stat = stats.setdefault(
                    (quiz.quiz, question.id), QuestionStat(quiz.quiz, quiz.title, question)
                )
                if question.given is None:  # not answered (the quiz not taken, or the question skipped): not missed
                    stat.unanswered += 1
                    continue
                stat.answered += 1
                stat.missed += not question.correct
    missed = [stat for stat in stats.values() if stat.missed]
    return sorted(missed, key=lambda stat: (-stat.missed, -stat.missed / stat.answered))

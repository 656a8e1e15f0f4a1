"""Grade answers into the shared result model: one `QuizResult` per quiz, a point a question.

Interactive runs and answers files both end here, so a learner sees the same score either
way, and batch grading gets plain `QuizResult` data that every renderer already reads.
"""
from __future__ import annotations

from pathlib import Path

from lossgrade.quiz import answers as answers_file
from lossgrade.quiz import library
from lossgrade.quiz.model import Answer, Quiz, describe, is_correct
from lossgrade.core.results import QuestionResult, QuizResult


def grade(quiz: Quiz, answers: dict[str, Answer]) -> QuizResult:
    """Score `answers` (question id -> answer; a missing one is wrong) against `quiz`."""
    questions = [
        QuestionResult(
            id=question.id,
            prompt=question.prompt,
            correct=is_correct(question, answers.get(question.id)),
            given=describe(question, answers.get(question.id)),
            expected=describe(question, question.answer),
            myth=question.myth,
            reality=question.reality,
        )
        for question in quiz.questions
    ]
    return QuizResult(
        quiz=quiz.id,
        title=quiz.title,
        score=float(sum(q.correct for q in questions)),
        max_score=float(len(questions)),
        questions=questions,
    )


def grade_answers_file(path: str | Path) -> list[QuizResult]:
    """Grade every quiz that the answers file at `path` answers, in course order.

    Quizzes the file does not mention are left out. Raises LossgradeError (one line, with
    the file and line) for malformed YAML, an unknown quiz or question id, or an answer of
    the wrong kind; batch grading can catch it and record the message.
    """
    quizzes = library.quizzes()
    given = answers_file.read(Path(path), quizzes)
    return [grade(quiz, given[quiz_id]) for quiz_id, quiz in quizzes.items() if quiz_id in given]

"""Read a learner's answers file: quiz id, then question id, then the answer.

The same file format answers one quiz or all of them, so a submission carries one
`quiz-answers.yaml`. A mistake in it (an unknown quiz or question, an answer of the wrong
kind) is not silently scored as wrong: it is a one-line error with the file and line, so the
learner can fix a typo instead of losing the point. An empty answer means "not answered".
"""
from __future__ import annotations

from pathlib import Path

from lossgrade.core.errors import LossgradeError
from lossgrade.quiz import yamlfile
from lossgrade.quiz.library import suggestion
from lossgrade.quiz.model import Answer, Quiz, parse_answer
from lossgrade.quiz.yamlfile import LineMap

Answers = dict[str, dict[str, Answer]]  # quiz id -> question id -> answer


def _section(path: Path, quiz: Quiz, raw: object, line: int) -> dict[str, Answer]:
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, LineMap):
        raise LossgradeError(f"{path}:{line}: under {quiz.id}: give question ids and answers, e.g. `softmax-before-ce: b`")
    answers: dict[str, Answer] = {}
    for question_id, value in raw.items():
        where = f"{path}:{raw.line_of(question_id)}"
        question = quiz.question(question_id)
        if question is None:
            hint = suggestion(question_id, [q.id for q in quiz.questions])
            raise LossgradeError(f"{where}: quiz {quiz.id} has no question {question_id!r}{hint}")
        if value is None or value == "":
            continue
        try:
            answers[question_id] = parse_answer(question, value)
        except ValueError as exc:
            raise LossgradeError(f"{where}: {quiz.id}#{question_id} ({question.kind.value} question): {exc}") from None
    return answers


def read(path: Path, quizzes: dict[str, Quiz]) -> Answers:
    """The answers in `path`, checked against `quizzes`, in file order. Raises
    LossgradeError (file and line) for anything that is not a valid answer."""
    data, problems = yamlfile.load(path)
    if problems:
        raise LossgradeError(str(problems[0]))
    if data is None:
        return {}
    if not isinstance(data, LineMap):
        raise LossgradeError(f"{path}:1: expected quiz ids with their answers, e.g. `logits: {{softmax-before-ce: b}}`")
    answers: Answers = {}
    for quiz_id, section in data.items():
        if quiz_id not in quizzes:
            hint = suggestion(quiz_id, list(quizzes))
            raise LossgradeError(f"{path}:{data.line_of(quiz_id)}: unknown quiz {quiz_id!r}{hint}")
        answers[quiz_id] = _section(path, quizzes[quiz_id], section, data.line_of(quiz_id))
    return answers

"""The shipped quizzes: they validate, cover the curriculum, and their code proves their keys.

All questions' code runs in one subprocess (torch is imported once), and each question is
then checked as its own test, so a wrong key names itself.
"""
from __future__ import annotations

import pytest

from lossgrade.course import catalog
from lossgrade import misconceptions
from lossgrade.quiz import library, question_ids, snippets
from lossgrade.quiz.model import Kind, Question
from lossgrade.quiz.validate import disagreement, validate

TOPICS = ("logits", "targets", "loss-scales", "choosing-a-loss", "training-step")
# Questions that the misconception catalogue and the exercises refer to, by "quiz#question".
REFERENCED = (
    "logits#softmax-before-ce",
    "logits#sigmoid-before-bce-with-logits",
    "logits#naive-softmax-overflow",
    "targets#one-hot-to-cross-entropy",
    "targets#ignore-index-in-mean",
    "targets#label-smoothing-over-c-classes",
    "loss-scales#sum-vs-mean",
    "loss-scales#raw-errors-cancel",
    "loss-scales#uniform-guess-ln10",
    "loss-scales#log-zero-clamp",
    "choosing-a-loss#mse-for-classification",
    "choosing-a-loss#mse-vs-l1",
    "loss-scales#rmse-vs-mse",
    "loss-scales#half-mse",
    "training-step#step-before-backward",
    "training-step#gradients-never-zeroed",
    "training-step#evaluate-in-train-mode",
    "training-step#no-grad-for-evaluation",
    "training-step#loss-item",
)
WITH_CODE = [(quiz.id, q) for quiz in library.quizzes().values() for q in quiz.questions if q.code]


def test_every_shipped_quiz_follows_the_schema() -> None:
    assert validate(run_code=False) == []


def test_the_five_topics_have_at_least_eight_questions_each() -> None:
    ids = question_ids()
    assert set(TOPICS) <= set(ids)
    assert {quiz: len(questions) for quiz, questions in ids.items() if len(questions) < 8} == {}


def test_referenced_questions_exist() -> None:
    ids = question_ids()
    missing = [ref for ref in REFERENCED if ref.split("#")[1] not in ids.get(ref.split("#")[0], [])]
    assert missing == []


def test_every_reference_from_the_course_resolves() -> None:
    """Exercise metadata names quizzes, and misconceptions name "quiz#question"."""
    ids = question_ids()
    references = [m.quiz for e in catalog.exercises() for m in misconceptions.catalogue(e.module) if m.quiz]
    assert [ref for ref in references if ref.partition("#")[2] not in ids.get(ref.partition("#")[0], [])] == []
    assert [e.id for e in catalog.exercises() if e.quiz and e.quiz not in ids] == []


def test_every_kind_of_question_is_used() -> None:
    kinds = {q.kind for quiz in library.quizzes().values() for q in quiz.questions}
    assert kinds == set(Kind)


def test_myth_reality_and_why_say_different_things() -> None:
    repeated = [
        f"{quiz.id}#{q.id}"
        for quiz in library.quizzes().values()
        for q in quiz.questions
        if len({q.myth, q.reality, q.why}) < 3
    ]
    assert repeated == []


@pytest.fixture(scope="module")
def runs() -> dict[str, snippets.Run]:
    """Every question's code, run once, by "quiz#question"."""
    results = snippets.run_all([question.code or "" for _quiz, question in WITH_CODE])
    return {f"{quiz_id}#{q.id}": run for (quiz_id, q), run in zip(WITH_CODE, results)}


@pytest.mark.parametrize(("quiz_id", "question"), WITH_CODE, ids=[f"{qz}#{q.id}" for qz, q in WITH_CODE])
def test_code_prints_the_answer_key(runs: dict[str, snippets.Run], quiz_id: str, question: Question) -> None:
    run = runs[f"{quiz_id}#{question.id}"]
    assert run.error is None
    assert disagreement(question, run.output) is None


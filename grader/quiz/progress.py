"""A learner's quiz history in the workspace: best scores, and a run in progress.

It lives under the key "quizzes" of the workspace's `.lossgrade/state.json`, which the
workspace writes atomically: a Ctrl-C at any moment leaves either the old state or the new
one. Progress is saved after every answer, so an interrupted run loses nothing and a rerun
can resume. Answers are stored in the answers-file notation and re-read through the same
parser, so stale or hand-edited progress is dropped instead of crashing the quiz.

A finished run's answers are kept too, and written to the workspace's `quiz-answers.yaml`
(quiz id, question id, answer: choice keys, whatever order the terminal showed them in),
the file `lossgrade grade` and `lossgrade quiz --answers` read and `lossgrade submit` hands in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossgrade.quiz.model import Answer, Quiz, answer_text, parse_answer
from lossgrade.core.results import QuizResult, quiz_from_dict, to_dict
from lossgrade.course.workspace import Workspace

KEY = "quizzes"
ANSWERS_FILE = "quiz-answers.yaml"


@dataclass
class Progress:
    """An unfinished run: the shuffle seed (so choices keep their order) and the answers."""

    seed: int
    answers: dict[str, Answer] = field(default_factory=dict)


def _records(workspace: Workspace) -> dict[str, Any]:
    records = workspace.load_state().get(KEY)
    return records if isinstance(records, dict) else {}


def _record(workspace: Workspace, quiz_id: str) -> dict[str, Any]:
    record = _records(workspace).get(quiz_id)
    return record if isinstance(record, dict) else {}


def _save(workspace: Workspace, quiz_id: str, record: dict[str, Any]) -> None:
    records = _records(workspace)
    records[quiz_id] = record
    workspace.update_state(**{KEY: records})


def best_scores(workspace: Workspace) -> dict[str, tuple[float, float]]:
    """Quiz id -> (best score, out of) for every quiz finished at least once."""
    scores = {}
    for quiz_id, record in _records(workspace).items():
        if isinstance(record, dict) and isinstance(record.get("best"), (int, float)):
            scores[quiz_id] = (float(record["best"]), float(record.get("max_score", 0)))
    return scores


def last_results(workspace: Workspace) -> list[QuizResult]:
    """The latest finished run of every quiz taken in this workspace."""
    found = []
    for record in _records(workspace).values():
        if isinstance(record, dict) and isinstance(record.get("last_result"), dict):
            try:
                found.append(quiz_from_dict(record["last_result"]))
            except (KeyError, TypeError, ValueError):
                continue
    return found


def load(workspace: Workspace, quiz: Quiz) -> Progress | None:
    """The unfinished run of `quiz`, keeping only answers that still fit its questions
    (None when there is no run with at least one such answer)."""
    saved = _record(workspace, quiz.id).get("progress")
    if not isinstance(saved, dict) or not isinstance(saved.get("seed"), int):
        return None
    answers: dict[str, Answer] = {}
    raw_answers = saved.get("answers")
    for question in quiz.questions:
        if isinstance(raw_answers, dict) and question.id in raw_answers:
            try:
                answers[question.id] = parse_answer(question, raw_answers[question.id])
            except ValueError:
                continue
    return Progress(saved["seed"], answers) if answers else None


def save(workspace: Workspace, quiz: Quiz, progress: Progress) -> None:
    record = _record(workspace, quiz.id)
    answers = {qid: answer_text(q, progress.answers[qid]) for q in quiz.questions if (qid := q.id) in progress.answers}
    record["progress"] = {"seed": progress.seed, "answers": answers}
    _save(workspace, quiz.id, record)


def finish(workspace: Workspace, quiz: Quiz, result: QuizResult, answers: dict[str, Answer] | None = None) -> float:
    """Record a finished run (its result and its answers too, for `lossgrade report` and
    the answers file), forget its progress, and return the best score so far."""
    score, max_score = result.score, result.max_score
    record = _record(workspace, quiz.id)
    record["last_result"] = to_dict(result)
    saved = record.pop("progress", None)
    if answers is not None:
        record["last_answers"] = {q.id: answer_text(q, answers[q.id]) for q in quiz.questions if q.id in answers}
    elif isinstance(saved, dict) and isinstance(saved.get("answers"), dict):
        record["last_answers"] = saved["answers"]
    best = record.get("best")
    record["best"] = score if not isinstance(best, (int, float)) else max(best, score)
    record["max_score"] = max_score
    runs = record.get("runs")
    record["runs"] = (runs if isinstance(runs, int) else 0) + 1
    record["last"] = score
    _save(workspace, quiz.id, record)
    return float(record["best"])


def discard(workspace: Workspace, quiz: Quiz) -> None:
    """Forget an unfinished run (the learner chose to start over)."""
    record = _record(workspace, quiz.id)
    if record.pop("progress", None) is not None:
        _save(workspace, quiz.id, record)


def last_answers(workspace: Workspace, quizzes: dict[str, Quiz]) -> dict[str, dict[str, Any]]:
    """Quiz id -> the answers of its latest finished run, in the answers file's notation,
    for every quiz of `quizzes` finished in this workspace (answers that no longer fit the
    quiz, after an edit of it, are dropped)."""
    found: dict[str, dict[str, Any]] = {}
    for quiz_id, quiz in quizzes.items():
        saved = _record(workspace, quiz_id).get("last_answers")
        if not isinstance(saved, dict):
            continue
        answers = {}
        for question in quiz.questions:
            if question.id in saved:
                try:
                    answers[question.id] = answer_text(question, parse_answer(question, saved[question.id]))
                except ValueError:
                    continue
        found[quiz_id] = answers
    return found


def answers_yaml(answers: dict[str, dict[str, Any]]) -> str:
    """`answers` as a quiz-answers.yaml that `lossgrade grade` reads back to the same answers."""
    import yaml

    head = "# Your quiz answers, written by `lossgrade quiz` (quiz id, question id, answer).\n"
    return head + (yaml.safe_dump(answers, sort_keys=False, allow_unicode=True) if answers else "{}\n")


def write_answers_file(workspace: Workspace, quizzes: dict[str, Quiz]) -> Path:
    """Write the workspace's quiz-answers.yaml from every finished quiz, keeping the
    sections of other quizzes a learner wrote there by hand; return its path."""
    import yaml
    from lossgrade.course.workspace import atomic_write_text

    path = workspace.root / ANSWERS_FILE
    try:
        existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        existing = None  # unreadable: rewritten from the quizzes taken here
    merged: dict[str, Any] = {str(k): v for k, v in existing.items()} if isinstance(existing, dict) else {}
    merged.update(last_answers(workspace, quizzes))
    atomic_write_text(path, answers_yaml(merged))
    return path

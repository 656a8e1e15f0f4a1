"""The class gradebook, from the records: `gradebook.csv` for an LMS, `gradebook.json` for
everything else.

The CSV has one row per learner: a column per exercise and per quiz (points), the total, the
most that could be earned and a status (`ok`, `warning: ...` or `error: ...`, the line the
summary printed). The JSON has one record per learner and exercise (and per learner and
quiz) with the status, every check's outcome and feedback and the misconceptions named.
Neither holds timings, so the same submissions give the same files, byte for byte.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from lossgrade import catalog
from lossgrade.batch.records import Record, utf8
from lossgrade.results import ExerciseResult, QuizResult, to_dict

FORMAT = 1


def points(value: float) -> str:
    """7.5 stays 7.5, 10.0 becomes 10."""
    return f"{round(value, 2):g}"


def learner_status(record: Record) -> str:
    if record.result.error:
        return f"error: {record.result.error}"
    return f"warning: {'; '.join(record.notes)}" if record.notes else "ok"


def quiz_status(quiz: QuizResult) -> str:
    if quiz.error:
        return "error"
    if all(q.given is None for q in quiz.questions):
        return "not submitted"
    return "passed" if quiz.score == quiz.max_score else "failed"


def _columns(records: Sequence[Record], exercises: Sequence[catalog.Exercise]) -> tuple[list[str], list[str]]:
    quizzes: list[str] = []
    for record in records:
        quizzes += [q.quiz for q in record.result.quizzes if q.quiz not in quizzes]
    return [e.id for e in exercises], quizzes


def to_csv(records: Sequence[Record], exercises: Sequence[catalog.Exercise]) -> str:
    exercise_ids, quiz_ids = _columns(records, exercises)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["learner", *exercise_ids, *(f"quiz:{q}" for q in quiz_ids), "total", "max_total", "status"])
    for record in records:
        scores = {e.exercise: e.score for e in record.result.exercises}
        scores.update({f"quiz:{q.quiz}": q.score for q in record.result.quizzes})
        row = [points(scores.get(column, 0.0)) for column in (*exercise_ids, *(f"quiz:{q}" for q in quiz_ids))]
        writer.writerow([_cell(record.learner), *row, points(record.result.score), points(record.result.max_score),
                         _cell(learner_status(record))])
    return utf8(buffer.getvalue())


def _cell(text: str) -> str:
    """Free text that a spreadsheet must not take for a formula (a learner chose it: their
    id, a status): one starting with =, +, -, @, a tab or a carriage return gets a leading
    single quote, as OWASP's advice on CSV injection has it. gradebook.json keeps the text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_json(records: Sequence[Record], exercises: Sequence[catalog.Exercise]) -> str:
    """The gradebook as JSON, one record a line (a class of a thousand stays quick to write
    and to diff)."""
    _, quiz_ids = _columns(records, exercises)
    titles = {q.quiz: (q.title, q.max_score) for r in records for q in r.result.quizzes}
    head = {
        "format": FORMAT,
        "exercises": [{"id": e.id, "title": e.title, "points": e.points} for e in exercises],
        "quizzes": [{"id": q, "title": titles[q][0], "points": titles[q][1]} for q in quiz_ids],
    }
    sections = {
        "learners": [
            {"learner": r.learner, "source": r.source, "score": r.result.score, "max_score": r.result.max_score,
             "status": learner_status(r)}
            for r in records
        ],
        "records": [exercise_record(r.learner, e) for r in records for e in r.result.exercises],
        "quiz_records": [quiz_record(r.learner, q) for r in records for q in r.result.quizzes],
    }
    parts = [json.dumps(head, ensure_ascii=False)[:-1]]
    for name, items in sections.items():
        lines = ",\n".join(json.dumps(item, ensure_ascii=False) for item in items)
        parts.append(f'"{name}": [\n{lines}\n]' if items else f'"{name}": []')
    return utf8(",\n".join(parts) + "}\n")


def exercise_record(learner: str, exercise: ExerciseResult) -> dict[str, Any]:
    checks = []
    for check in exercise.checks:
        data = to_dict(check)
        data.pop("duration", None)
        checks.append(data)
    return {
        "learner": learner,
        "exercise": exercise.exercise,
        "title": exercise.title,
        "score": exercise.score,
        "max_score": exercise.max_score,
        "status": exercise.status.value,
        "error": exercise.error,
        "checks": checks,
        "misconceptions": [to_dict(m) for m in exercise.misconceptions],
    }


def quiz_record(learner: str, quiz: QuizResult) -> dict[str, Any]:
    return {
        "learner": learner,
        "quiz": quiz.quiz,
        "title": quiz.title,
        "score": quiz.score,
        "max_score": quiz.max_score,
        "status": quiz_status(quiz),
        "error": quiz.error,
        "questions": [{"id": q.id, "correct": q.correct, "given": q.given, "expected": q.expected} for q in quiz.questions],
    }

"""The class gradebook, from the records: `gradebook.csv` for an LMS, `gradebook.json` for
everything else.

The CSV has one row per learner: a column per exercise and per quiz (points), the total, the
most that could be earned (every exercise's points and a point per quiz question, whether
the learner took the quiz or not), a status (`ok`, `warning: ...` or `error: ...`, the line
the summary printed) and the violations: what the learner's code tried that the sandbox
refused (reading a classmate's file, importing the grader...), empty when nothing. The JSON has one record per learner and exercise (and per learner and
quiz) with the status, every check's outcome and feedback and the misconceptions named.
Neither holds timings, so the same submissions give the same files, byte for byte.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from lossgrade.course import catalog
from lossgrade.grading.records import Record, utf8
from lossgrade.core.results import ExerciseResult, QuizResult, SubmissionResult, to_dict

FORMAT = 1


def points(value: float) -> str:
    """7.5 stays 7.5, 10.0 becomes 10."""
    return f"{round(value, 2):g}"


def learner_status(record: Record) -> str:
    if record.result.error:
        return f"error: {record.result.error}"
    return f"warning: {'; '.join(record.notes)}" if record.notes else "ok"


# How a check reports what the sandbox refused (checks/framework.py, grading/grader.py, the guards).
_VIOLATIONS = (re.compile(r"Your code tried to `([^`]+)`"), re.compile(r"\(it tried to ([^)]+)\)"),
               re.compile(r"lossgrade: learner code may not ([^(\n]+?) \("))


def violations(result: SubmissionResult) -> list[str]:
    """What the learner's code tried that the sandbox refused, once each, by exercise."""
    found: list[str] = []
    for exercise in result.exercises:
        texts = [exercise.error or ""]
        for check in exercise.checks:
            if check.feedback:
                texts += [check.feedback.message, check.feedback.got or ""]
        for text in texts:
            for pattern in _VIOLATIONS:
                for what in pattern.findall(text):
                    item = f"{exercise.exercise}: {what}"
                    if item not in found:
                        found.append(item)
    if result.error and "the sandbox stopped" in result.error:
        found.append("stopped the sandbox twice while being graded")
    return found


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
    writer.writerow(["learner", *exercise_ids, *(f"quiz:{q}" for q in quiz_ids), "total", "max_total", "status",
                     "violations"])
    for record in records:
        scores = {e.exercise: e.score for e in record.result.exercises}
        scores.update({f"quiz:{q.quiz}": q.score for q in record.result.quizzes})
        row = [points(scores.get(column, 0.0)) for column in (*exercise_ids, *(f"quiz:{q}" for q in quiz_ids))]
        writer.writerow([_cell(record.learner), *row, points(record.result.score), points(record.result.max_score),
                         _cell(learner_status(record)), _cell("; ".join(violations(record.result)))])
    return utf8(buffer.getvalue())


def _cell(text: str) -> str:
    """Free text that a spreadsheet must not take for a formula (a learner chose it: their
    id, a status): one starting with =, +, -, @, a tab or a carriage return gets a leading
    single quote, as OWASP's advice on CSV injection has it. gradebook.json keeps the text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_json(records: Sequence[Record], exercises: Sequence[catalog.Exercise], ignored: Sequence[str] = ()) -> str:
    """The gradebook as JSON, one record a line (a class of a thousand stays quick to write
    and to diff); `ignored`: the entries of the class folder that are no submission."""
    _, quiz_ids = _columns(records, exercises)
    titles = {q.quiz: (q.title, q.max_score) for r in records for q in r.result.quizzes}
    head = {
        "format": FORMAT,
        "exercises": [{"id": e.id, "title": e.title, "points": e.points} for e in exercises],
        "quizzes": [{"id": q, "title": titles[q][0], "points": titles[q][1]} for q in quiz_ids],
        "max_total": "every exercise's points and a point per quiz question, whether the learner took the quiz or not",
        "not_submissions": list(ignored),  # entries of the class folder neither a folder nor a .zip: not graded
    }
    sections = {
        "learners": [
            {"learner": r.learner, "source": r.source, "score": r.result.score, "max_score": r.result.max_score,
             "status": learner_status(r), "violations": violations(r.result), "notes": r.notes,
             "files": {"graded_from": r.origins, "not_graded": r.ignored}}
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

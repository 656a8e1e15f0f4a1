"""The course's quizzes: every `*.yaml` of every course folder in force, looked up by id.

Quizzes are parsed on demand and cached until a file changes, so batch grading of a whole
class parses them once. A shipped quiz with a schema problem is a course bug: using it
raises one error that points at `lossgrade quiz --validate`, which lists them all.
"""
from __future__ import annotations

import difflib
import functools
from pathlib import Path

from lossgrade import course
from lossgrade.core.errors import LossgradeError
from lossgrade.quiz import schema
from lossgrade.quiz.model import Quiz


def quiz_files(folder: Path | None = None) -> list[Path]:
    """The quiz files in `folder`, in name order; by default those of every course folder
    in force, the built-in ones first, so an instructor's quiz replaces one of the same id."""
    if folder is not None:
        return sorted(folder.glob("*.yaml"))
    return course.current().quiz_files()


@functools.lru_cache(maxsize=8)
def _load(signature: tuple[tuple[Path, int], ...]) -> dict[str, Quiz]:
    quizzes: dict[str, Quiz] = {}
    for path, _mtime in signature:
        quiz, problems = schema.parse(path)
        if problems or quiz is None:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise LossgradeError(f"{problems[0]}{more}; run `lossgrade quiz --validate` to list them all")
        quizzes[quiz.id] = quiz
    return quizzes


def quizzes() -> dict[str, Quiz]:
    """Every quiz of the course, by id, in name order."""
    return _load(tuple((path, path.stat().st_mtime_ns) for path in quiz_files()))


def suggestion(wanted: str, names: list[str]) -> str:
    """"; did you mean X?" for the closest name, or nothing."""
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
    return f"; did you mean {close[0]}?" if close else ""


def get(quiz_id: str) -> Quiz:
    """The quiz called `quiz_id`; an unknown id is a one-line error with a suggestion."""
    known = quizzes()
    if quiz_id not in known:
        hint = suggestion(quiz_id, list(known))
        raise LossgradeError(f"unknown quiz {quiz_id!r}{hint} (`lossgrade quiz` lists them all)")
    return known[quiz_id]


def question_ids() -> dict[str, list[str]]:
    """Each quiz id with its question ids, in order: what "quiz-id#question-id" may name."""
    return {quiz.id: [q.id for q in quiz.questions] for quiz in quizzes().values()}

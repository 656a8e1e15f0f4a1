"""Quiz schema 1: turn one YAML file into a `Quiz`, collecting every problem on the way.

Validation does not stop at the first mistake: an author fixing a quiz wants the whole list,
each with its file, line and what to change (see quizzes/SCHEMA.md). Running the questions'
code is a separate step (`validate.py`), since it needs a subprocess.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from lossgrade.quiz import claims, yamlfile
from lossgrade.quiz.model import Kind, Question, Quiz, parse_answer
from lossgrade.quiz.yamlfile import LineList, LineMap, Problem

SCHEMA_VERSION = "1"
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
QUIZ_FIELDS = ("schema", "id", "title", "topic", "description", "claims", "questions")
QUESTION_FIELDS = ("id", "kind", "prompt", "choices", "answer", "tolerance", "code", "myth", "reality", "why", "claims")
_CHOICE_KINDS = (Kind.SINGLE, Kind.MULTIPLE)
_CODE_REQUIRED = (Kind.NUMERIC, Kind.OUTPUT)


class _Reader:
    """Reads fields of one file, noting a problem (with its line) for each bad one."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def unknown_fields(self, mapping: LineMap, allowed: tuple[str, ...], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.problem(mapping.line_of(key), f"unknown field {key!r} in {what}; expected one of {', '.join(allowed)}")

    def text(self, mapping: LineMap, key: str, what: str, required: bool = True) -> str:
        value = mapping.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value is not None and not isinstance(value, str):
            self.problem(mapping.line_of(key), f"{what}: {key!r} must be text, not a list or mapping")
        elif required:
            self.problem(mapping.line_of(key), f"{what} has no {key!r}; add `{key}: ...`")
        return ""

    def slug(self, mapping: LineMap, key: str, what: str) -> str:
        value = self.text(mapping, key, what)
        if value and not SLUG.fullmatch(value):
            self.problem(mapping.line_of(key), f"{what}: {key} {value!r} must be a lowercase slug such as softmax-before-ce")
        return value


def _choices(reader: _Reader, entry: LineMap, kind: Kind, where: str) -> dict[str, str]:
    raw = entry.get("choices")
    if kind not in _CHOICE_KINDS:
        if raw is not None:
            reader.problem(entry.line_of("choices"), f"{where}: a {kind.value} question takes no choices; remove them")
        return {}
    if not isinstance(raw, LineMap) or len(raw) < 2:
        reader.problem(entry.line_of("choices"), f"{where}: give at least two choices as a mapping, e.g. `a: ...` and `b: ...`")
        return {}
    choices: dict[str, str] = {}
    for key in raw:
        if not SLUG.fullmatch(key):
            reader.problem(raw.line_of(key), f"{where}: choice key {key!r} must be a lowercase word such as a or b")
        choices[key] = reader.text(raw, key, f"{where}, choice {key}")
    return choices


def _number(raw: object) -> float:
    """`raw` as a number, or nan when it is missing or is not a number."""
    try:
        return float(raw) if isinstance(raw, str) else math.nan
    except ValueError:
        return math.nan


def _answer(reader: _Reader, entry: LineMap, question: Question, where: str) -> None:
    """Fill in the key and tolerance; both must make sense for the question's kind."""
    line = question.answer_line
    if entry.get("answer") in (None, ""):
        reader.problem(line, f"{where} has no answer; add `answer: ...`")
    elif question.kind not in _CHOICE_KINDS or question.choices:
        try:
            question.answer = parse_answer(question, entry["answer"])
        except ValueError as exc:
            reader.problem(line, f"{where}: answer is not valid: {exc}")
        if question.kind is Kind.OUTPUT and "\n" in str(question.answer):
            reader.problem(line, f"{where}: an output answer must be one line, so that a learner can type it")
    raw_tolerance = entry.get("tolerance")
    if question.kind is not Kind.NUMERIC:
        if raw_tolerance is not None:
            reader.problem(entry.line_of("tolerance"), f"{where}: only numeric questions take a tolerance; remove it")
        return
    question.tolerance = _number(raw_tolerance)
    if not question.tolerance >= 0:  # false for nan too
        question.answer = ""  # no usable key: its code is not compared with it
        reader.problem(
            entry.line_of("tolerance") if raw_tolerance is not None else line,
            f"{where}: a numeric answer needs `tolerance:`, a number >= 0 (e.g. 0.01)",
        )


def _question(reader: _Reader, entry: Any, line: int, number: int) -> Question | None:
    if not isinstance(entry, LineMap):
        reader.problem(line, f"question {number} must be a mapping with id, kind, prompt, ...")
        return None
    qid = reader.slug(entry, "id", f"question {number}")
    where = f"question {qid or number}"
    reader.unknown_fields(entry, QUESTION_FIELDS, where)
    raw_kind = entry.get("kind")
    try:
        kind = Kind(raw_kind)
    except ValueError:
        kinds = ", ".join(k.value for k in Kind)
        reader.problem(entry.line_of("kind"), f"{where}: kind {raw_kind!r} is not one of {kinds}")
        return None
    question = Question(
        id=qid,
        kind=kind,
        prompt=reader.text(entry, "prompt", where),
        myth=reader.text(entry, "myth", where),
        reality=reader.text(entry, "reality", where),
        why=reader.text(entry, "why", where),
        answer="",
        choices=_choices(reader, entry, kind, where),
        code=reader.text(entry, "code", where, required=kind in _CODE_REQUIRED) or None,
        line=entry.line,
        answer_line=entry.line_of("answer"),
        code_line=entry.text_line_of("code"),
    )
    if question.code and kind is Kind.MULTIPLE:
        reader.problem(question.code_line, f"{where}: a multiple-choice question cannot carry code; make it an output question")
    _answer(reader, entry, question, where)
    # A claim vouches for what the question teaches (prompt, reality, why), never for its myth.
    said = sum((claims.Words.of(question_text, entry.text_line_of(key)) for key, question_text in
                (("prompt", question.prompt), ("reality", question.reality), ("why", question.why))), claims.Words())
    question.claims = claims.parse_list(entry.get("claims"), entry.line_of("claims"), reader.path, where, said,
                                        reader.problems)
    return question


def parse(path: Path) -> tuple[Quiz | None, list[Problem]]:
    """The quiz in `path` and every schema problem found in it (the quiz is None when the
    file is too broken to use at all). Unreadable or non-YAML files raise FileError."""
    data, problems = yamlfile.load(path)
    reader = _Reader(path, problems)
    if not isinstance(data, LineMap):
        reader.problem(1, "a quiz file must be a mapping with schema, id, title, topic and questions")
        return None, problems
    reader.unknown_fields(data, QUIZ_FIELDS, "the quiz")
    if data.get("schema") != SCHEMA_VERSION:
        reader.problem(data.line_of("schema"), f"expected `schema: {SCHEMA_VERSION}` (this lossgrade reads quiz schema {SCHEMA_VERSION})")
    quiz_id = reader.slug(data, "id", "the quiz")
    if quiz_id and quiz_id != path.stem:
        reader.problem(data.line_of("id"), f"quiz id {quiz_id!r} must match the file name {path.name!r}; rename one")
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, LineList) or not raw_questions:
        reader.problem(data.line_of("questions"), "the quiz has no questions; add a `questions:` list")
        raw_questions = LineList(data.line)
    questions: list[Question] = []
    first_line: dict[str, int] = {}
    for number, (entry, line) in enumerate(zip(raw_questions, raw_questions.lines), start=1):
        question = _question(reader, entry, line, number)
        if question is None:
            continue
        if question.id in first_line:
            reader.problem(question.line, f"duplicate question id {question.id!r} (first at line {first_line[question.id]}); rename one")
            continue
        first_line[question.id] = question.line
        questions.append(question)
    quiz = Quiz(
        id=quiz_id or path.stem,
        title=reader.text(data, "title", "the quiz"),
        topic=reader.slug(data, "topic", "the quiz"),
        questions=questions,
        path=path,
        description=reader.text(data, "description", "the quiz", required=False),
    )
    quiz.claims = claims.parse_list(data.get("claims"), data.line_of("claims"), path, "the quiz's description",
                                    claims.Words.of(quiz.description, data.text_line_of("description")), problems)
    return quiz, problems

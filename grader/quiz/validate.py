"""Validate quiz files: the schema, then every question's code against its answer key.

This is what `lossgrade quiz --validate` and the course self-check run. A question's code is
the proof of its key, so the key is only accepted when the code runs and prints it: a key
that disagrees with its own code is reported like any schema error, with file and line.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from lossgrade.quiz import claims, library, schema, snippets
from lossgrade.quiz.model import Kind, Question, Quiz, squash
from lossgrade.quiz.yamlfile import FileError, Problem


def expand(paths: Iterable[Path]) -> list[Path]:
    """The quiz files that `paths` name: a folder stands for its `*.yaml` files."""
    files: list[Path] = []
    for path in paths:
        files.extend(library.quiz_files(path) if path.is_dir() else [path])
    return files


def disagreement(question: Question, printed: str) -> str | None:
    """Why `printed` (what the question's code printed) does not prove the key, or None."""
    text = printed.strip()
    if question.kind is Kind.NUMERIC:
        assert isinstance(question.answer, float)
        try:
            value = float(text)
        except ValueError:
            return f"the code must print one number, but it prints {text!r}"
        if math.isfinite(value) and abs(value - question.answer) <= question.tolerance:
            return None
        return f"the code prints {text}, but the answer is {question.answer:g} ± {question.tolerance:g}; fix the answer"
    if question.kind is Kind.TRUE_FALSE:
        expected = "True" if question.answer else "False"
    elif question.kind is Kind.SINGLE:
        assert isinstance(question.answer, str)
        expected = question.choices[question.answer]
    else:
        assert isinstance(question.answer, str)
        expected = question.answer
    if squash(text) == squash(expected):
        return None
    return f"the code prints {text!r}, but the answer says {expected!r}; fix the answer or the code"


def quiz_claims(quizzes: list[Quiz]) -> list[claims.Claim]:
    """Every claim of the quizzes: their descriptions' and their questions'."""
    return [c for quiz in quizzes for c in quiz.claims + [c for q in quiz.questions for c in q.claims]]


def check_code(quizzes: list[Quiz]) -> list[Problem]:
    """Run every question's code and every claim's (one subprocess for all) and compare
    each with the key, or with the text the claim vouches for."""
    with_code = [(quiz, q) for quiz in quizzes for q in quiz.questions if q.code and q.answer != ""]
    stated = [c for c in quiz_claims(quizzes) if c.text_line is not None]
    runs = snippets.run_all([q.code or "" for _quiz, q in with_code] + [c.code for c in stated])
    problems = claims.check(stated, runs[len(with_code):])
    runs = runs[:len(with_code)]
    for (quiz, question), run in zip(with_code, runs):
        where = f"question {question.id}"
        if run.error is not None:
            line = question.code_line + (run.line or 1) - 1
            at = f" at line {run.line} of the code" if run.line else ""
            problems.append(Problem(quiz.path, line, f"{where}: the code failed{at}: {run.error}"))
        elif (reason := disagreement(question, run.output)) is not None:
            problems.append(Problem(quiz.path, question.answer_line, f"{where}: {reason}"))
    return problems


def validate(paths: Iterable[Path] | None = None, run_code: bool = True) -> list[Problem]:
    """Every problem in the quiz files or folders `paths` (default: the course's quizzes),
    in file order; an empty list means they are all valid."""
    return validate_counting(paths, run_code)[0]


def validate_counting(paths: Iterable[Path] | None = None, run_code: bool = True) -> tuple[list[Problem], int]:
    """`validate`, and how many claims the quizzes carry (all of them run with the code)."""
    problems: list[Problem] = []
    quizzes: list[Quiz] = []
    for path in expand(paths) if paths is not None else library.quiz_files():
        try:
            quiz, found = schema.parse(path)
        except FileError as exc:
            problems.append(exc.problem)
            continue
        problems.extend(found)
        if quiz is not None:
            quizzes.append(quiz)
    if run_code:
        problems.extend(check_code(quizzes))
    return sorted(problems, key=lambda p: (str(p.path), p.line)), len(quiz_claims(quizzes))

"""Quiz results as terminal text, the same after an interactive run and for an answers file.

Colour only helps a person at a terminal: click strips it when the stream is not a tty, and
`NO_COLOR` (https://no-color.org) turns it off everywhere.
"""
from __future__ import annotations

import os
import shutil
import textwrap
from typing import Any

import click

from lossgrade.core.results import QuestionResult, QuizResult


def echo(text: str = "", err: bool = False) -> None:
    """click.echo, honouring NO_COLOR as well as click's own tty check."""
    click.echo(text, err=err, color=False if os.environ.get("NO_COLOR") else None)


def wrap(text: str) -> str:
    """Prose folded to the terminal's width (at most 88 columns); indented lines, such as
    code in a prompt, are left as they are."""
    width = min(shutil.get_terminal_size((80, 24)).columns, 88) - 1
    return "\n".join(
        line if line[:1].isspace() else textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False)
        for line in text.splitlines()
    )


def mark(correct: bool) -> str:
    return click.style("✓", fg="green", bold=True) if correct else click.style("✗", fg="red", bold=True)


def shown(value: Any) -> str:
    """An answer as a learner reads it: choice texts quoted, numbers short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value)
    return f'"{value}"'


def score_line(score: float, max_score: float) -> str:
    return f"{score:g}/{max_score:g}"


def _question_line(question: QuestionResult) -> str:
    if question.correct:
        return f"  {mark(True)} {question.id}"
    given = "not answered" if question.given is None else f"you answered {shown(question.given)}"
    return f"  {mark(False)} {question.id}: {given}; the answer is {shown(question.expected)}"


def render(result: QuizResult) -> str:
    """The summary of one graded quiz: a line per question and the score."""
    lines = [f"{result.quiz}: {result.title}"]
    lines += [_question_line(q) for q in result.questions]
    lines.append(f"Score: {score_line(result.score, result.max_score)}")
    return "\n".join(lines)

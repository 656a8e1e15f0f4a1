"""What `lossgrade.check`, `hint` and `quiz` return: results that show themselves.

In Jupyter or Colab they render as HTML (`_repr_html_`), drawn by the same templates and
macros as the reports; anywhere else `print(result)` or the REPL shows the terminal
renderer's plain text, without colour. Each wraps plain result data and exposes it, so a
program can read `.passed`, `.score` or `.to_dict()` (the same JSON as `--json`).
"""
from __future__ import annotations

import functools
import json
from typing import Any

import click
import jinja2
from lossgrade.course.hints import Revealed
from lossgrade.quiz.model import Kind, Quiz
from lossgrade.output.quiz_report import render as render_quiz
from lossgrade.output import terminal
from lossgrade.output.html import environment, render_exercise_fragment
from lossgrade.core.results import (
    CheckResult,
    ExerciseResult,
    Misconception,
    Outcome,
    QuizResult,
    Status,
    to_dict,
)
from markupsafe import Markup

_FRAME = """{%- import "_macros.html.j2" as ui -%}
<div class="lg lg-fragment">
{% if styles %}{% include "_styles.html.j2" %}{% endif %}
{{ body }}
</div>"""

_NOTES = """{% for note in notes %}<p class="callout"><strong>Note:</strong> {{ note | code }}</p>{% endfor %}"""

_QUIZ = """{%- import "_macros.html.j2" as ui -%}{{ ui.quiz_detail(quiz, level=3) }}"""

_HINTS = """<article class="card">
  <div class="card-head"><h3><span class="tag">{{ id }}</span> {{ title }}</h3></div>
  {% if error %}<p class="problem">{{ error | code }}</p>{% endif %}
  {% if message %}<p class="muted">{{ message | code }}</p>{% endif %}
  {% for number, total, text in hints %}<p><strong>Hint {{ number }}/{{ total }}:</strong> {{ text | code }}</p>{% endfor %}
  {% if last %}<p class="muted">{{ last | code }}</p>{% endif %}
</article>"""

_SHEET = """<article class="card quiz">
  <div class="card-head"><h3><span class="tag">{{ quiz.id }}</span> {{ quiz.title }}</h3>
  <p class="card-score">{{ quiz.questions | length }} questions</p></div>
  {% if quiz.description %}<p>{{ quiz.description }}</p>{% endif %}
  {% for q in quiz.questions %}
  <div class="question">
    <p class="prompt"><span class="tag">{{ q.id }}</span> {{ q.prompt | code }}</p>
    {% if q.code and q.kind.value == "output" %}<pre>{{ q.code }}</pre>{% endif %}
    {% if q.choices %}<ul>{% for key, text in q.choices.items() %}<li><code>{{ key }}</code> {{ text | code }}</li>{% endfor %}</ul>{% endif %}
    <p class="muted">Answer with {{ forms[q.kind.value] }}.</p>
  </div>
  {% endfor %}
  <p>Then: <code>{{ call }}</code></p>
</article>"""

FORMS = {
    Kind.SINGLE.value: "one choice key, e.g. \"b\"",
    Kind.MULTIPLE.value: "a list of every right key, e.g. [\"a\", \"c\"]",
    Kind.TRUE_FALSE.value: "True or False",
    Kind.NUMERIC.value: "a number, e.g. 2.30",
    Kind.OUTPUT.value: "the printed text, as a string",
}


@functools.cache
def _template(source: str) -> jinja2.Template:
    return environment().from_string(source)


def _html(body: str, styles: bool = True, **context: Any) -> str:
    """`body` (a template) rendered with `context`, in a styled fragment like the reports'."""
    inner = _template(body).render(**context)
    return _template(_FRAME).render(body=Markup(inner), styles=styles)


class Shown:
    """Plain text for print() and the REPL, HTML for notebooks."""

    def text(self) -> str:
        raise NotImplementedError

    def html(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()


class ExerciseReport(Shown):
    """The result of `lossgrade.check`: the same data as `lossgrade check --json`."""

    def __init__(self, result: ExerciseResult, notes: list[str] | None = None) -> None:
        self.result = result
        self.notes = list(notes or [])  # said beside the result, e.g. a function not passed

    @property
    def exercise(self) -> str:
        return self.result.exercise

    @property
    def title(self) -> str:
        return self.result.title

    @property
    def status(self) -> Status:
        return self.result.status

    @property
    def passed(self) -> bool:
        """Every check passed."""
        return self.result.status is Status.PASSED

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def max_score(self) -> float:
        return self.result.max_score

    @property
    def checks(self) -> list[CheckResult]:
        return self.result.checks

    @property
    def failed(self) -> list[CheckResult]:
        """The checks that did not pass (skipped ones aside)."""
        return [c for c in self.result.checks if c.outcome not in (Outcome.PASSED, Outcome.SKIPPED)]

    @property
    def error(self) -> str | None:
        """Why nothing could be checked, if nothing could."""
        return self.result.error

    @property
    def misconceptions(self) -> list[Misconception]:
        return self.result.misconceptions

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_dict(self.result)
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def text(self) -> str:
        lines = [click.unstyle(terminal.exercise(self.result))]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    def html(self) -> str:
        fragment = render_exercise_fragment(self.result)
        if not self.notes:
            return fragment
        return fragment + _html(_NOTES, styles=False, notes=self.notes)


class QuizReport(Shown):
    """A graded quiz (or why it could not be graded)."""

    def __init__(self, result: QuizResult) -> None:
        self.result = result

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def max_score(self) -> float:
        return self.result.max_score

    @property
    def passed(self) -> bool:
        """Every question answered right."""
        return not self.result.error and self.result.score == self.result.max_score > 0

    @property
    def questions(self) -> list[Any]:
        return self.result.questions

    @property
    def error(self) -> str | None:
        return self.result.error

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_dict(self.result)
        return data

    def text(self) -> str:
        if self.result.error:
            return f"{self.result.quiz}: {self.result.error}"
        lines = [click.unstyle(render_quiz(self.result))]
        for question in self.result.questions:
            if not question.correct:
                lines += [f"  {question.id}", f"    myth: {question.myth}", f"    reality: {question.reality}"]
        return "\n".join(lines)

    def html(self) -> str:
        return _html(_QUIZ, quiz=self.result)


class QuizSheet(Shown):
    """A quiz's questions, to answer with `lossgrade.quiz(id, answers={...})`."""

    def __init__(self, quiz: Quiz) -> None:
        self.quiz = quiz

    @property
    def call(self) -> str:
        ids = ", ".join(f'"{q.id}": ...' for q in self.quiz.questions[:2])
        more = ", ..." if len(self.quiz.questions) > 2 else ""
        return f'lossgrade.quiz("{self.quiz.id}", answers={{{ids}{more}}})'

    def text(self) -> str:
        lines = [f"{self.quiz.id}: {self.quiz.title} ({len(self.quiz.questions)} questions)"]
        for q in self.quiz.questions:
            lines += ["", f"[{q.id}] {q.prompt}"]
            if q.code and q.kind is Kind.OUTPUT:
                lines += ["    " + line for line in q.code.splitlines()]
            lines += [f"  {key}) {text}" for key, text in q.choices.items()]
            lines.append(f"  (answer with {FORMS[q.kind.value]})")
        lines += ["", f"Then: {self.call}"]
        return "\n".join(lines)

    def html(self) -> str:
        return _html(_SHEET, quiz=self.quiz, forms=FORMS, call=self.call)


class HintReport(Shown):
    """The hints shown by `lossgrade.hint`, gentle first."""

    def __init__(self, exercise: str, title: str = "", revealed: Revealed | None = None, error: str | None = None) -> None:
        self.exercise, self.title, self.revealed, self.error = exercise, title, revealed, error

    @property
    def hints(self) -> list[str]:
        return [text for _, text in self.revealed.hints] if self.revealed else []

    def _lines(self) -> list[str]:
        if self.error:
            return [self.error]
        assert self.revealed is not None
        lines = self.revealed.lines()
        return lines or [f'No hints shown yet for {self.exercise}: lossgrade.hint("{self.exercise}") shows the first.']

    def text(self) -> str:
        return "\n".join(self._lines())

    def html(self) -> str:
        context: dict[str, Any] = {"id": self.exercise, "title": self.title, "error": self.error,
                                   "message": None, "hints": [], "last": None}
        if self.revealed is not None and self.revealed.numbers:
            total = len(self.revealed.exercise.hints)
            context["hints"] = [(number, total, text) for number, text in self.revealed.hints]
            context["last"] = self.revealed.lines()[-1] if self.revealed.last else None
        elif not self.error:
            context["message"] = self._lines()[0]
        return _html(_HINTS, **context)

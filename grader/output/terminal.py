"""Results as text for a terminal: coloured when stdout is a terminal and NO_COLOR is unset.

Only reads result objects; every sentence of feedback comes from the checks.
"""
from __future__ import annotations

import os
import sys
import textwrap

import click

from lossgrade.core.results import CheckResult, ExerciseResult, Outcome, Status

MARKS = {
    Outcome.PASSED: ("✓", "green"),
    Outcome.FAILED: ("✗", "red"),
    Outcome.NOT_STARTED: ("·", "yellow"),
    Outcome.ERROR: ("!", "red"),
    Outcome.SKIPPED: ("-", "bright_black"),
}
STATUS_COLOURS = {
    Status.PASSED: "green",
    Status.FAILED: "red",
    Status.NOT_STARTED: "yellow",
    Status.NOT_SUBMITTED: "bright_black",
    Status.ERROR: "red",
}
WIDTH = 100


def use_colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def paint(text: str, colour: str, bold: bool = False) -> str:
    return click.style(text, fg=colour, bold=bold) if use_colour() else text


def exercise(result: ExerciseResult, verbose_passes: bool = True) -> str:
    """One exercise: a heading, a line per check, feedback under each failure, a total."""
    lines = [paint(f"{result.exercise} · {result.title}", "cyan", bold=True)]
    if result.status is Status.NOT_SUBMITTED:
        lines.append(f"  {result.error}")
        return "\n".join(lines)
    if result.status is Status.ERROR and result.error:
        lines.append(paint(f"  ! {result.error}", "red"))
        shown = result.checks[0].feedback if result.checks else None
        if shown and shown.got:
            lines.append(textwrap.indent(shown.got, "      "))
        lines.append(_total(result))
        return "\n".join(lines)
    skipped = [c for c in result.checks if c.outcome is Outcome.SKIPPED]
    explained: set[str] = set()  # a misconception met in several checks is explained once
    for check in result.checks:
        if check.outcome is Outcome.SKIPPED or (check.outcome is Outcome.PASSED and not verbose_passes):
            continue
        lines.extend(_check(check, explained))
    if skipped:
        reason = skipped[0].feedback.message if skipped[0].feedback else ""
        lines.append(paint(f"  - {len(skipped)} check(s) skipped. {reason.removeprefix('Skipped: ')}", "bright_black"))
    lines.append(_total(result))
    return "\n".join(lines)


def _check(check: CheckResult, explained: set[str]) -> list[str]:
    mark, colour = MARKS[check.outcome]
    device = check.id.rsplit("[", 1)[1].rstrip("]") if check.id.endswith("]") else ""
    suffix = f" [{device}]" if device else ""
    lines = [f"  {paint(mark, colour, bold=True)} {check.description}{suffix}"]
    if check.outcome in (Outcome.PASSED, Outcome.NOT_STARTED) or not check.feedback:
        return lines
    fb = check.feedback
    lines.extend(_wrapped("", fb.message))
    for label, value in (("call", fb.call), ("got", fb.got), ("expected", fb.expected)):
        if value:
            lines.extend(_wrapped(f"{label}:", value))
    if check.misconception and check.misconception.id in explained:
        lines.extend(_wrapped(paint("mistake:", "magenta", bold=True), f"{check.misconception.name} (see above)."))
    elif check.misconception:
        m = check.misconception
        explained.add(m.id)
        lines.extend(_wrapped(paint("mistake:", "magenta", bold=True), f"{m.name}. {m.message}"))
        if m.quiz:
            lines.extend(_wrapped("myth:", f"quiz question {m.quiz} (`lossgrade quiz {m.quiz.split('#')[0]}`)"))
    if fb.hint:
        lines.extend(_wrapped("hint:", fb.hint))
    if fb.output:
        lines.extend(_wrapped("printed:", fb.output.strip()))
    return lines


def _wrapped(label: str, text: str) -> list[str]:
    indent = " " * 6
    head = f"{indent}{label:<10}" if label else indent
    body = textwrap.wrap(text, WIDTH - len(head), break_long_words=False, replace_whitespace=False) or [""]
    return [head + body[0]] + [" " * len(head) + line for line in body[1:]]


def _total(result: ExerciseResult) -> str:
    counted = [c for c in result.checks if c.outcome is not Outcome.SKIPPED]
    passed = sum(c.outcome is Outcome.PASSED for c in counted)
    status = paint(result.status.value, STATUS_COLOURS[result.status], bold=True)
    return f"  {passed}/{len(counted)} checks passed · {result.score:g}/{result.max_score:g} points · {status}"


def progress(results: list[ExerciseResult]) -> str:
    """The `lossgrade list` table and a progress summary."""
    lines = []
    for r in results:
        status = paint(f"{r.status.value:<13}", STATUS_COLOURS[r.status])
        lines.append(f"  {r.exercise}  {status}  {r.score:>5g}/{r.max_score:<3g}  {r.title}")
    done = sum(r.status is Status.PASSED for r in results)
    score = sum(r.score for r in results)
    total = sum(r.max_score for r in results)
    lines.append(f"\n  {done}/{len(results)} exercises passing · {score:g}/{total:g} exercise points")
    return "\n".join(lines)

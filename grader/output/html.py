"""HTML reports: one self-contained page per learner, one for the class, and a fragment for
notebooks.

Any text in a report may come from a learner: their id, what their code printed, even a
check description that quotes their output. So the Jinja environment escapes everything,
and is strict about undefined names (a typo in a template fails a test instead of quietly
rendering an empty cell). Pages carry their CSS and SVG inline and a Content-Security-Policy
that allows no script and no fetch: a report opened from disk or sent by mail makes no
network request and runs nothing, even if escaping were ever broken.
"""
from __future__ import annotations

import datetime
import functools
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape

import lossgrade
from lossgrade.core import atomicfile, learnerfiles
from lossgrade.course import release
from lossgrade.output import advice, charts, stats
from lossgrade.core.results import ExerciseResult, SubmissionResult

# Windows refuses these as file names whatever the extension; a learner may be called "con".
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _num(value: float) -> str:
    """7.5 stays 7.5, 10.0 becomes 10: points read as people write them."""
    return f"{round(value, 2):g}"


def _pct(value: float) -> str:
    return f"{value:.0f}%"


def _code(text: str) -> Markup:
    """Escape `text`, then show its `backticked` parts as code (advice and hints use them)."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: show the text as it is
        return escape(text)
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if index % 2 else escape(part)
        for index, part in enumerate(parts)
    )


def _anchor(value: str) -> str:
    """A fragment id made only of characters that need no quoting anywhere."""
    return _UNSAFE.sub("-", value) or "-"


def _answer(value: Any) -> str:
    return "(no answer)" if value is None else str(value)


@functools.cache
def environment() -> jinja2.Environment:
    """The one Environment, built once: templates are package data, read with the package."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lossgrade.output", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=_num, pct=_pct, code=_code, anchor=_anchor, answer=_answer)
    env.globals.update(percent=stats.percent, version=lossgrade.__version__)
    return env


def render_learner_report(result: SubmissionResult, *, next_steps: list[str] | None = None,
                          withheld: Sequence[str] = (), files: Sequence[str] = ()) -> str:
    """A learner's own report; `next_steps` defaults to advice read off their results;
    `withheld` names, a sentence each, the exercises left out of `result` (see release.py);
    `files`, a sentence each, what grading said of their files (graded under another name,
    not graded and why)."""
    steps = advice.next_steps(result) if next_steps is None else next_steps
    return environment().get_template("learner.html.j2").render(result=result, next_steps=steps, withheld=withheld,
                                                                files=files)


@dataclass(frozen=True)
class Attention:
    """A line of the class report's "Needs a look": a submission not graded, a violation,
    a file not graded or graded under another name."""

    learner: str
    kind: str
    detail: str


def course_totals(results: Sequence[SubmissionResult]) -> dict[str, float] | None:
    """The points a submission is out of, split into exercises and quizzes (None when the
    learners' totals differ, e.g. a class graded with -e next to older results)."""
    maxima = {(sum(e.max_score for e in r.exercises), sum(q.max_score for q in r.quizzes)) for r in results}
    if len(maxima) != 1:
        return None
    exercises, quizzes = maxima.pop()
    return {"exercises": exercises, "quizzes": quizzes, "all": exercises + quizzes}


def render_class_report(
    results: Sequence[SubmissionResult], *, learner_links: dict[str, str], attention: Sequence[Attention] = ()
) -> str:
    """The instructor's report; `learner_links` maps learner ids to relative hrefs."""
    for learner, href in learner_links.items():
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("/", "\\")):
            raise ValueError(f"the link for {learner!r} must be a relative path, not {href!r}")
    return (
        environment()
        .get_template("class.html.j2")
        .render(
            results=results,
            learner_links=learner_links,
            summary=stats.summary(results),
            chart=charts.histogram(stats.learner_percents(results)),
            exercises=stats.exercise_stats(results),
            checks=stats.check_stats(results),
            misconceptions=stats.misconception_stats(results),
            questions=stats.question_stats(results),
            attention=attention,
            totals=course_totals(results),
        )
    )


def render_exercise_fragment(result: ExerciseResult) -> str:
    """One exercise as a `<div>` for a notebook cell, drawn by the same macros as the pages."""
    return environment().get_template("fragment.html.j2").render(exercise=result)


def safe_file_names(learners: Iterable[str]) -> dict[str, str]:
    """A distinct, harmless file name for each learner id: the one `learnerfiles` gives
    every file of a learner."""
    return learnerfiles.file_names(learners, ".html")


def write_reports(out_dir: Path, results: Sequence[SubmissionResult], now: datetime.datetime | None = None,
                  attention: Sequence[Attention] = (), written: Collection[str] = ()) -> Path:
    """Write `out_dir/learners/<name>.html` for every learner (what each may see at `now`,
    by the course's visibility rules) but those `written` already (`write_learner_report`),
    then `out_dir/report.html` (everything) linking to them, last, so its links never point
    at a missing file; return its path."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    learners = [result.learner for result in results]
    repeated = sorted(learner for learner, count in Counter(learners).items() if count > 1)
    if repeated:
        raise ValueError(f"learner ids must be unique; repeated: {', '.join(map(repr, repeated))}")
    names = safe_file_names(learners)
    (Path(out_dir) / "learners").mkdir(parents=True, exist_ok=True)
    files = files_said(attention)
    for result in results:
        if result.learner not in written:
            write_learner_report(out_dir, result, now, files.get(result.learner, []))
    report = Path(out_dir) / "report.html"
    links = {learner: f"learners/{name}" for learner, name in names.items()}
    atomicfile.write_text(report, render_class_report(results, learner_links=links, attention=attention))
    return report


def write_learner_report(out_dir: Path, result: SubmissionResult, now: datetime.datetime, files: Sequence[str]) -> None:
    """`out_dir/learners/<name>.html`: what the learner may see at `now`; `files`, what
    grading said of their files (`files_said`)."""
    view = release.for_learner(result, now)
    learner_dir = Path(out_dir) / "learners"
    learner_dir.mkdir(parents=True, exist_ok=True)
    atomicfile.write_text(learner_dir / (learnerfiles.file_stem(result.learner) + ".html"),
                          render_learner_report(view.result, withheld=view.withheld, files=files))


def files_said(attention: Sequence[Attention]) -> dict[str, list[str]]:
    """What grading said of each learner's files (a note, a file not graded), by learner,
    a sentence each, for their report."""
    files: dict[str, list[str]] = {}
    for row in attention:
        if row.kind in ("note", "file not graded"):
            files.setdefault(row.learner, []).append(row.detail if row.kind == "note" else f"Not graded: {row.detail}")
    return files

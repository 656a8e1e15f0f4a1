"""The course catalogue: every exercise's metadata, read from `exercises/info.yaml`.

One metadata source per exercise (title, file, functions, points, quiz, forbidden calls,
hints), loaded into typed dataclasses and validated with errors that name the file and the
field. Exercise ids are resolved leniently: `3`, `ex3`, `ex03` and `ex03_cross_entropy`
all mean the same exercise, and an unknown id gets the closest valid one as a suggestion.
"""
from __future__ import annotations

import datetime
import difflib
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lossgrade import course
from lossgrade.errors import LossgradeError

FORMAT = 1
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


@dataclass(frozen=True)
class Exercise:
    id: str  # "ex03"
    name: str  # "cross_entropy"
    title: str
    file: str  # "ex03_cross_entropy.py"
    functions: tuple[str, ...]
    points: float
    quiz: str | None
    forbidden: tuple[str, ...]
    hints: tuple[str, ...]
    allowed_imports: tuple[str, ...] = field(default=())  # learner files it may import
    warm: tuple[str, ...] = field(default=())  # torch parts its workers use ("optim")
    visibility: str = "visible"  # of its checks, in Gradescope's words (VISIBILITIES)
    due: datetime.datetime | None = None
    root: Path = field(default_factory=course.course_root)  # the course folder it comes from

    @property
    def module(self) -> str:
        return self.file.removesuffix(".py")

    @property
    def stub_path(self) -> Path:
        return self.root / "exercises" / self.file

    @property
    def solution_path(self) -> Path:
        return self.root / "solutions" / self.file

    @property
    def checks_path(self) -> Path | None:
        """An instructor's checks file for this exercise, when its course has one."""
        path = self.root / "checks" / self.file
        return path if self.root != course.course_root() and path.is_file() else None


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 1


def _parse(path: Path) -> list[Exercise]:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise LossgradeError(f"{path}: cannot read the course metadata ({exc.strerror})")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise LossgradeError(f"{path}{where}: invalid YAML ({getattr(exc, 'problem', exc)})")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LossgradeError(f"{path}:1: expected `format: {FORMAT}` and a list of exercises")
    exercises = []
    for entry in data.get("exercises") or []:
        where = f"{path}:{_line_of(text, 'id: ' + str(entry.get('id')))}"
        try:
            exercises.append(
                Exercise(
                    id=str(entry["id"]),
                    name=str(entry["name"]),
                    title=str(entry["title"]),
                    file=str(entry["file"]),
                    functions=tuple(entry["functions"]),
                    points=float(entry.get("points", 10)),
                    quiz=entry.get("quiz"),
                    forbidden=tuple(entry.get("forbidden") or ()),
                    hints=tuple(entry.get("hints") or ()),
                    allowed_imports=tuple(entry.get("allowed_imports") or ()),
                    warm=tuple(entry.get("warm") or ()),
                    visibility=str(entry.get("visibility", "visible")),
                    due=_due(entry.get("due"), where),
                    root=path.parent.parent,
                )
            )
        except KeyError as exc:
            raise LossgradeError(f"{where}: exercise is missing the field {exc.args[0]!r}")
        except (TypeError, ValueError) as exc:
            raise LossgradeError(f"{where}: {exc}")
        if not re.fullmatch(r"ex\d\d", exercises[-1].id):
            raise LossgradeError(f"{where}: exercise id must look like ex01")
        if exercises[-1].visibility not in VISIBILITIES:
            raise LossgradeError(f"{where}: visibility must be one of {', '.join(VISIBILITIES)}")
    return exercises


def _due(value: object, where: str) -> datetime.datetime | None:
    """A due date: YAML's own timestamp, or ISO text; naive times are taken as UTC."""
    if value is None:
        return None
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, datetime.time(23, 59, 59))
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise LossgradeError(f"{where}: due must be a date like 2026-12-01T23:59:00Z, not {value!r}")
    if not isinstance(value, datetime.datetime):
        raise LossgradeError(f"{where}: due must be a date like 2026-12-01T23:59:00Z")
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


@functools.lru_cache(maxsize=None)
def _load(path: Path) -> tuple[Exercise, ...]:
    return tuple(_parse(path))


def exercises() -> tuple[Exercise, ...]:
    """Every exercise of the course in id order: the built-in ones, with an instructor's
    course folder adding exercises and replacing those that share an id."""
    merged: dict[str, Exercise] = {}
    for root in course.roots():
        info = root / "exercises" / "info.yaml"
        if root == course.course_root() or info.is_file():
            merged.update((e.id, e) for e in _load(info))
    return tuple(sorted(merged.values(), key=lambda e: e.id))


def resolve(text: str) -> Exercise:
    """The exercise that `text` names (3, ex3, ex03, ex03_cross_entropy, the file name)."""
    wanted = text.strip().lower().removesuffix(".py")
    match = re.fullmatch(r"(?:ex)?0*(\d+)(?:_\w+)?", wanted)
    for exercise in exercises():
        if wanted in (exercise.id, exercise.module, exercise.name):
            return exercise
        if match and int(match.group(1)) == int(exercise.id[2:]):
            if "_" not in wanted or wanted == exercise.module:
                return exercise
    names = [e.id for e in exercises()] + [e.module for e in exercises()]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.3)
    suggestion = f"; did you mean {close[0]}?" if close else ""
    raise LossgradeError(f"unknown exercise {text!r}{suggestion} (`lossgrade list` shows them all)")

"""An exercise of a course, as its folder's exercises/info.yaml describes it, read and
validated with errors that name the file and line (`parse_info`), and where each course
folder keeps its parts (`folder`)."""
from __future__ import annotations

import datetime
import difflib
import functools
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from lossgrade.core.errors import LossgradeError

FORMAT = 1
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
FIELDS = ("id", "name", "title", "file", "functions", "points", "quiz", "forbidden", "hints",
          "allowed_imports", "warm", "visibility", "due")
REQUIRED = ("id", "name", "title", "file", "functions")
LISTS = ("functions", "forbidden", "hints", "allowed_imports", "warm")


@functools.cache
def course_root() -> Path:
    """The built-in course: exercises/, solutions/ and quizzes/ shipped with lossgrade."""
    return Path(str(resources.files("lossgrade") / "_course"))


PACKAGE_PARTS = ("checks", "misconceptions")  # the built-in course's, kept as the package's own modules


def folder(root: Path, part: str) -> Path:
    """A course folder's part ("exercises", "solutions", "checks", "misconceptions",
    "quizzes"). Every folder has them at the same place; the built-in course's checks and
    misconceptions are the package's own folders (lossgrade/checks, lossgrade/misconceptions),
    so that they are modules of the package as well as files of the course."""
    if part in PACKAGE_PARTS and root == course_root():
        return Path(str(resources.files("lossgrade") / part))
    return root / part


# --------------------------------------------------------------------------- exercises
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
    root: Path = field(default_factory=course_root)  # the course folder it comes from

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
        """Its course folder's checks file, when it has one: found the same way in the
        built-in course (lossgrade/checks/) and in an instructor's folder (checks/)."""
        path = folder(self.root, "checks") / self.file
        return path if path.is_file() else None


class CourseError(LossgradeError):
    """Course material that does not validate: `problems` lists every line to fix; the
    message is the first of them."""

    def __init__(self, problems: list[str]) -> None:
        more = f" (and {len(problems) - 1} more: `lossgrade course check` lists them)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)
        self.problems = problems


def _describe(value: object) -> str:
    """How a YAML value reads in an error: "the string 'mse'", "a mapping", "nothing"."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


@dataclass
class _Lines:
    """Line numbers of a composed info.yaml: each exercise entry's, and of its keys."""

    entries: list[int] = field(default_factory=list)
    keys: list[dict[str, int]] = field(default_factory=list)
    items: list[dict[str, list[int]]] = field(default_factory=list)  # of each list item under a key
    top: dict[str, int] = field(default_factory=dict)  # the file's own keys
    duplicates: list[tuple[int, str, int]] = field(default_factory=list)  # (line, key, its first line)

    @classmethod
    def of(cls, text: str) -> _Lines:
        lines = cls()
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return lines
        if not isinstance(node, yaml.MappingNode):
            return lines
        lines.top = lines._keys(node.value)
        for key, value in node.value:
            if getattr(key, "value", None) == "exercises" and isinstance(value, yaml.SequenceNode):
                for entry in value.value:
                    lines.entries.append(entry.start_mark.line + 1)
                    pairs = entry.value if isinstance(entry, yaml.MappingNode) else []
                    lines.keys.append(lines._keys(pairs))
                    lines.items.append({str(k.value): [i.start_mark.line + 1 for i in v.value]
                                        for k, v in pairs if isinstance(v, yaml.SequenceNode)})
        return lines

    def _keys(self, pairs: list[tuple[yaml.Node, yaml.Node]]) -> dict[str, int]:
        """The line of each key of a mapping; a key written twice (YAML keeps the last
        silently) is noted as a duplicate."""
        found: dict[str, int] = {}
        for key, _ in pairs:
            name, line = str(key.value), key.start_mark.line + 1
            if name in found:
                self.duplicates.append((line, name, found[name]))
            found.setdefault(name, line)
        return found

    def entry(self, index: int) -> int:
        return self.entries[index] if index < len(self.entries) else 1

    def key(self, index: int, key: str) -> int:
        return self.keys[index].get(key, self.entry(index)) if index < len(self.keys) else 1

    def item(self, index: int, key: str, position: int) -> int:
        found = self.items[index].get(key, []) if index < len(self.items) else []
        return found[position] if position < len(found) else self.key(index, key)


def parse_info(path: Path) -> tuple[Exercise, ...]:
    """The exercises an info.yaml lists, every field validated: CourseError lists each
    problem as `path:line: what to fix`."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise CourseError([f"{path}: cannot read the course metadata ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise CourseError([f"{path}:1: the file is not UTF-8 text"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise CourseError([f"{path}{where}: invalid YAML ({getattr(exc, 'problem', exc)})"]) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CourseError([f"{path}:1: expected `format: {FORMAT}` and a list of exercises"])
    entries = data.get("exercises") or []
    lines = _Lines.of(text)
    if not isinstance(entries, list):
        raise CourseError([f"{path}:{lines.top.get('exercises', 1)}: 'exercises' must be a list of "
                           f"exercises, got {_describe(entries)}"])
    problems = [f"{path}:{line}: {key!r} is written twice (first at line {first}); keep one"
                for line, key, first in lines.duplicates]
    problems += [f"{path}:{line}: unknown field {key!r} (an info.yaml has `format: {FORMAT}` and `exercises:`)"
                 for key, line in lines.top.items() if key not in ("format", "exercises")]
    exercises: list[Exercise] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        exercise = _exercise(path, index, entry, lines, problems)
        if exercise is None:
            continue
        line = lines.entry(index)
        if exercise.id in seen:
            problems.append(f"{path}:{line}: exercise {exercise.id} is listed twice (first at line {seen[exercise.id]})")
            continue
        seen[exercise.id] = line
        exercises.append(exercise)
    if problems:
        raise CourseError(problems)
    return tuple(exercises)


def _exercise(path: Path, index: int, entry: object, lines: _Lines, problems: list[str]) -> Exercise | None:
    """One entry of info.yaml as an Exercise, or None with its problems appended."""
    start = len(problems)

    def problem(key: str | None, message: str, line: int | None = None) -> None:
        where = line or (lines.key(index, key) if key else lines.entry(index))
        problems.append(f"{path}:{where}: {message}")

    if not isinstance(entry, dict):
        problem(None, f"each exercise must be a mapping of fields (id: ex01, title: ...), got {_describe(entry)}")
        return None
    for key in entry:
        if key not in FIELDS:
            close = difflib.get_close_matches(str(key), FIELDS, n=1)
            problem(str(key), f"unknown field {key!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                    + f" (the fields are {', '.join(FIELDS)})")
    for key in REQUIRED:
        if key not in entry:
            problem(None, f"exercise {entry.get('id', f'#{index + 1}')} is missing the field {key!r}")
    for key in ("id", "name", "title", "file"):
        if key in entry and not isinstance(entry[key], str):
            problem(key, f"{key!r} must be text, got {_describe(entry[key])}")
    for key in LISTS:
        value = entry.get(key)
        if value is None and key != "functions":
            continue
        if not isinstance(value, list):
            what = "a list of names" if key != "hints" else "a list of hints"
            problem(key, f"{key!r} must be {what}, got {_describe(value)}")
            continue
        for position, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                problem(key, f"each entry of {key!r} must be text, got {_describe(item)}",
                        lines.item(index, key, position))
    typed = len(problems) == start
    if typed and not re.fullmatch(r"ex\d\d", entry["id"]):
        problem("id", f"exercise id must look like ex01, got {entry['id']!r}")
    if typed and not re.fullmatch(r"[A-Za-z_]\w*\.py", entry["file"]):
        problem("file", f"'file' must be a Python file name in exercises/, like ex90_log_cosh.py, got {entry['file']!r}")
    if typed and not entry["functions"]:
        problem("functions", "'functions' must name at least one function or class of the exercise")
    for key in ("functions", "allowed_imports") if typed else ():
        for position, name in enumerate(entry.get(key) or ()):
            if not name.isidentifier():
                problem(key, f"{name!r} in {key!r} is not a Python name", lines.item(index, key, position))
    points = entry.get("points", 10)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 <= points < math.inf:
        problem("points", f"'points' must be a number of 0 or more, got {_describe(points)}")
    quiz = entry.get("quiz")
    if quiz is not None and not isinstance(quiz, str):
        problem("quiz", f"'quiz' must be a quiz id, got {_describe(quiz)}")
    visibility = entry.get("visibility", "visible")
    if visibility not in VISIBILITIES:
        problem("visibility", f"'visibility' must be one of {', '.join(VISIBILITIES)}, got {_describe(visibility)}")
    due = None
    try:
        due = _due(entry.get("due"))
    except ValueError as exc:
        problem("due", str(exc))
    if len(problems) > start:
        return None
    return Exercise(
        id=entry["id"], name=entry["name"], title=entry["title"], file=entry["file"],
        functions=tuple(entry["functions"]), points=float(points), quiz=quiz,
        forbidden=tuple(entry.get("forbidden") or ()), hints=tuple(entry.get("hints") or ()),
        allowed_imports=tuple(entry.get("allowed_imports") or ()), warm=tuple(entry.get("warm") or ()),
        visibility=visibility, due=due, root=path.parent.parent,
    )


def _due(value: object) -> datetime.datetime | None:
    """A due date: YAML's own timestamp, or ISO text; naive times are taken as UTC."""
    if value is None:
        return None
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, datetime.time(23, 59, 59))
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"'due' must be a date like 2026-12-01T23:59:00Z, got {value!r}") from None
    if not isinstance(value, datetime.datetime):
        raise ValueError(f"'due' must be a date like 2026-12-01T23:59:00Z, got {_describe(value)}")
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)

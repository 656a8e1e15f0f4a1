"""The course: its folders, its exercises, and where everything of an exercise lives.

A `Course` is an ordered stack of course folders, the built-in one first and an
instructor's folder (`lossgrade --course DIR`, or LOSSGRADE_COURSE) over it. Every folder
has the same layout (exercises/ with info.yaml and the stubs, solutions/, checks/,
misconceptions/, quizzes/) and is loaded by the same code: `Course.load` reads and
validates every info.yaml once, with errors that name the file and line. A later folder
adds exercises and quizzes and replaces the exercises that share an id.

The course answers every "where is X of this exercise" question in one place: its checks,
its reference solution, its catalogued mistakes, the trusted drivers its checks call, the
quizzes, and the paths learner code must not read. A front-end loads the course once at its
entry point and hands it down (`ctx.obj` on the command line); code that is not handed one
uses `current()`: the course its entry point put in force with `use`, else the built-in
course with the folder LOSSGRADE_COURSE names over it.

The built-in course ships inside the package (in a clone, `grader/_course/*` are symlinks
to the repository's top-level folders; in a wheel, setuptools copies their contents), read
through importlib.resources so `lossgrade` works from any folder.
"""
from __future__ import annotations

import contextlib
import datetime
import difflib
import functools
import importlib
import importlib.util
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from lossgrade.core import pyfiles
from lossgrade.core.errors import LossgradeError

if TYPE_CHECKING:
    from lossgrade.checks.framework import Checks

ENV = "LOSSGRADE_COURSE"
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


def templates_dir() -> Path:
    return Path(str(resources.files("lossgrade.output") / "templates"))


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
        """Its course folder's checks file, when it has one (else the built-in checks
        module of the same name grades it, if there is one)."""
        path = self.root / "checks" / self.file
        return path if self.root != course_root() and path.is_file() else None


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
        problem("file", f"'file' must be a Python file name in exercises/, like ex10_log_cosh.py, got {entry['file']!r}")
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


def _folder_exercises(root: Path) -> tuple[Exercise, ...]:
    """The exercises one course folder defines (none without exercises/info.yaml): the
    built-in folder and an instructor's are read by this same function, and read again
    only when info.yaml changes."""
    if not root.is_dir():
        raise CourseError([f"{root}: the course folder does not exist (check --course or {ENV})"])
    info = root / "exercises" / "info.yaml"
    try:
        seen = info.stat()
    except FileNotFoundError:
        return ()
    except OSError as exc:
        raise CourseError([f"{info}: cannot read the course metadata ({exc.strerror})"]) from None
    return _parsed(info, seen.st_mtime_ns, seen.st_size)


@functools.lru_cache(maxsize=32)
def _parsed(info: Path, mtime_ns: int, size: int) -> tuple[Exercise, ...]:
    return parse_info(info)


# ----------------------------------------------------------------------------- courses
@dataclass(frozen=True)
class Course:
    roots: tuple[Path, ...]  # the built-in folder first; later folders win
    exercises: tuple[Exercise, ...]  # merged, in id order

    @classmethod
    def load(cls, *folders: Path | str) -> Course:
        """The built-in course with `folders` layered over it, in order, every folder
        read and validated the same way (CourseError names each file and line to fix)."""
        roots: list[Path] = [course_root()]
        for folder in folders:
            path = Path(folder).resolve()
            if path not in roots:
                roots.append(path)
        merged: dict[str, Exercise] = {}
        problems: list[str] = []
        for root in roots:
            try:
                merged.update((e.id, e) for e in _folder_exercises(root))
            except CourseError as exc:
                problems.extend(exc.problems)
        if problems:
            raise CourseError(problems)
        return cls(tuple(roots), tuple(sorted(merged.values(), key=lambda e: e.id)))

    @property
    def builtin(self) -> Path:
        return self.roots[0]

    @property
    def extra(self) -> Path | None:
        """The instructor's folder on top, if any."""
        return self.roots[-1] if len(self.roots) > 1 else None

    def from_folder(self, root: Path) -> tuple[Exercise, ...]:
        """The exercises in force that `root` defines (not those a later folder replaced)."""
        return tuple(e for e in self.exercises if e.root.resolve() == root.resolve())

    def exercise(self, text: str) -> Exercise:
        """The exercise that `text` names (3, ex3, ex03, ex03_cross_entropy, the file name)."""
        wanted = text.strip().lower().removesuffix(".py")
        match = re.fullmatch(r"(?:ex)?0*(\d+)(?:_\w+)?", wanted)
        for exercise in self.exercises:
            if wanted in (exercise.id, exercise.module, exercise.name):
                return exercise
            if match and int(match.group(1)) == int(exercise.id[2:]):
                if "_" not in wanted or wanted == exercise.module:
                    return exercise
        names = [e.id for e in self.exercises] + [e.module for e in self.exercises]
        close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.3)
        suggestion = f"; did you mean {close[0]}?" if close else ""
        raise LossgradeError(f"unknown exercise {text!r}{suggestion} (`lossgrade list` shows them all)")

    # --- where each part of an exercise lives -----------------------------------------
    def checks_file(self, exercise: Exercise) -> Path | None:
        """The course folder's checks file of `exercise`; None where the built-in checks
        module of the same name grades it (or nothing does)."""
        return exercise.checks_path

    def has_checks(self, exercise: Exercise) -> bool:
        """Whether anything can grade `exercise`: its folder's checks file, or a built-in
        checks module of its name."""
        if self.checks_file(exercise) is not None:
            return True
        return importlib.util.find_spec(f"lossgrade.checks.{exercise.module}") is not None

    def checks(self, exercise: Exercise) -> Checks:
        """The loaded checks of `exercise` (LossgradeError, one line, when it has none or
        its file's `Checks(...)` names another exercise)."""
        return _checks(exercise, self.checks_file(exercise))

    def reference_file(self, exercise: Exercise) -> Path:
        return exercise.solution_path

    def mistake_files(self, module: str) -> tuple[Path, ...]:
        """The instructors' misconceptions files of an exercise module, top folder first;
        the built-in module `lossgrade.misconceptions.<module>` follows them."""
        return tuple(path for root in reversed(self.roots[1:])
                     if (path := root / "misconceptions" / f"{module}.py").is_file())

    def drivers_file(self) -> Path:
        """The trusted drivers that checks of a function taking a model call (built in;
        a course folder cannot add its own yet)."""
        return Path(str(resources.files("lossgrade") / "sandbox" / "_drivers.py"))

    def quiz_files(self) -> list[Path]:
        """Every quiz file of every folder, built-in first (a later one wins on an id)."""
        return [path for root in self.roots for path in sorted((root / "quizzes").glob("*.yaml"))]

    def hidden_paths(self) -> tuple[Path, ...]:
        """What learner code may never read: every folder's reference solutions."""
        return tuple(root / "solutions" for root in self.roots if (root / "solutions").exists())


@functools.cache
def _checks(exercise: Exercise, path: Path | None) -> Checks:
    if path is None:
        try:
            module = importlib.import_module(f"lossgrade.checks.{exercise.module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lossgrade.checks.{exercise.module}":
                raise
            raise LossgradeError(f"{exercise.id} has no checks: write them in "
                                 f"{exercise.root / 'checks' / exercise.file}") from None
        where = f"lossgrade.checks.{exercise.module}"
    else:
        module = pyfiles.load(f"lossgrade_course_checks_{exercise.module}", path)
        where = str(path)
    found: Any = getattr(module, "checks", None)
    if not isinstance(getattr(found, "module", None), str) or not hasattr(found, "all"):  # not a `Checks`
        raise LossgradeError(f"{where}: defines no `checks = Checks({exercise.module!r})`")
    if found.module != exercise.module:
        line = _line_of(path, "Checks(") if path else 1
        raise LossgradeError(f"{where}:{line}: Checks({found.module!r}) names another exercise; these are the "
                             f"checks of {exercise.id}, so write Checks({exercise.module!r})")
    return found


def _line_of(path: Path, needle: str) -> int:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 1
    return next((n for n, line in enumerate(text.splitlines(), start=1) if needle in line), 1)


# ----------------------------------------------------------------------- in force now
_chosen: Course | None = None


def current() -> Course:
    """The course put in force with `use` (or `using`); without one, the environment's."""
    if _chosen is not None:
        return _chosen
    override = os.environ.get(ENV)
    return Course.load(*([override] if override else []))  # cheap: each info.yaml is parsed once


def use(course: Course | None) -> None:
    """Put `course` in force for this process (None: the environment's again). Forked
    workers inherit it; a spawned one is handed it and calls `use` itself."""
    global _chosen
    _chosen = course


@contextlib.contextmanager
def using(course: Course) -> Iterator[Course]:
    """`course` in force for the duration of the block."""
    previous = _chosen
    use(course)
    try:
        yield course
    finally:
        use(previous)


# --- the folder functions older callers use: each answers from the course in force ------
def extra_root() -> Path | None:
    """The instructor's course folder layered over the built-in one, if any."""
    return current().extra


def roots() -> list[Path]:
    """Every course folder in force, the built-in one first (later ones win)."""
    return list(current().roots)


def exercises_dir() -> Path:
    return course_root() / "exercises"


def solutions_dir() -> Path:
    return course_root() / "solutions"


def quizzes_dir() -> Path:
    return course_root() / "quizzes"

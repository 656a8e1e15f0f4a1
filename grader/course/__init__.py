"""The course: its folders, its exercises, and where everything of an exercise lives.

A `Course` is an ordered stack of course folders, the built-in one first and an
instructor's folder (`lossgrade --course DIR`, or LOSSGRADE_COURSE) over it. Every folder
has the same layout (exercises/ with info.yaml and the stubs, solutions/, checks/,
misconceptions/, drivers/, quizzes/) and is loaded by the same code: `Course.load` reads and
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
import difflib
import functools
import importlib
import importlib.util
import os
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from lossgrade.core import pyfiles
from lossgrade.core.errors import LossgradeError
from lossgrade.course.info import FORMAT, VISIBILITIES, CourseError, Exercise, course_root, folder, parse_info

__all__ = ["ENV", "FORMAT", "VISIBILITIES", "Course", "CourseError", "Exercise", "course_root", "current", "extra_root",
           "folder", "load_module", "parse_info", "roots", "use", "using"]

if TYPE_CHECKING:
    from lossgrade.checks.framework import Checks

ENV = "LOSSGRADE_COURSE"
DRIVERS_DIR = "drivers"  # a course folder's trusted drivers, one file per exercise module


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
        for given in folders:
            path = Path(given).resolve()
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
        """The checks file of `exercise`, found by path the same way in every folder
        (checks/<file>; the built-in course's folder is lossgrade/checks/): its own folder's,
        else that of a folder under it (an exercise that replaces a built-in one keeps its
        checks unless it brings its own); None when no folder has one."""
        below = self.roots[: self.roots.index(exercise.root) + 1] if exercise.root in self.roots else (exercise.root,)
        return next((path for root in reversed(below) if (path := folder(root, "checks") / exercise.file).is_file()), None)

    def has_checks(self, exercise: Exercise) -> bool:
        """Whether the course can grade `exercise`: its folder has its checks file."""
        return self.checks_file(exercise) is not None

    def checks(self, exercise: Exercise) -> Checks:
        """The loaded checks of `exercise` (LossgradeError, one line, when it has none or
        its file's `Checks(...)` names another exercise)."""
        return _checks(exercise, self.checks_file(exercise))

    def reference_file(self, exercise: Exercise) -> Path:
        return exercise.solution_path

    def mistake_files(self, module: str) -> tuple[Path, ...]:
        """The misconceptions files of an exercise module, found the same way in every
        folder (misconceptions/<module>.py; the built-in course's is
        lossgrade/misconceptions/<module>.py), the top folder first."""
        return tuple(path for root in reversed(self.roots)
                     if (path := folder(root, "misconceptions") / f"{module}.py").is_file())

    def drivers_file(self) -> Path:
        """The sandbox's own drivers, which ex07's and ex08's checks call; every other
        exercise's drivers are its course folder's `drivers/<module>.py` (`drivers_path`)."""
        return Path(str(resources.files("lossgrade") / "sandbox" / "_drivers.py"))

    def drivers_path(self, exercise: Exercise) -> Path | None:
        """The drivers file of `exercise`: `drivers/<its file>` in its own course folder,
        else in the built-in one (an exercise replaced by a folder that keeps the built-in
        checks keeps their drivers too); None when it has none."""
        for root in dict.fromkeys((exercise.root, self.builtin)):
            path = folder(root, DRIVERS_DIR) / exercise.file
            if path.is_file():
                return path
        return None

    def driver_sources(self) -> dict[str, str]:
        """The text of every exercise's drivers file, by exercise module: what the sandbox
        runs beside learner code (sent to it, never read by it from the course folder)."""
        sources: dict[str, str] = {}
        for exercise in self.exercises:
            path = self.drivers_path(exercise)
            if path is not None:
                try:
                    sources[exercise.module] = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise LossgradeError(f"{path}: cannot read the drivers file ({exc})") from None
        return sources

    def drivers(self, module: str) -> dict[str, Any]:
        """The `DRIVERS` of an exercise module's drivers file, loaded in this (trusted)
        process, where checks run them on the reference solution and on simulated mistakes
        (LossgradeError, one line, when the exercise has none or the file defines none)."""
        exercise = next((e for e in self.exercises if e.module == module), None)
        path = self.drivers_path(exercise) if exercise is not None else None
        if path is None:
            raise LossgradeError(f"{module} has no drivers: write them in {DRIVERS_DIR}/{module}.py of its course "
                                 "folder, as `DRIVERS = {name: function}`")
        return _drivers(module, path)

    def quiz_files(self) -> list[Path]:
        """Every quiz file of every folder, built-in first (a later one wins on an id)."""
        return [path for root in self.roots for path in sorted((root / "quizzes").glob("*.yaml"))]

    def hidden_paths(self) -> tuple[Path, ...]:
        """What learner code may never read: every folder's reference solutions and drivers."""
        return tuple(path for root in self.roots for part in ("solutions", DRIVERS_DIR)
                     if (path := folder(root, part)).exists())


def load_module(part: str, path: Path) -> ModuleType:
    """A course folder's checks or misconceptions file (`part`), imported in this trusted
    process. Every folder's file is found by path the same way; the built-in course's are the
    package's own modules and are imported by name, so that each exists once
    (`lossgrade.checks.ex01_mse`), an instructor's under a private name."""
    if path.parent == folder(course_root(), part):
        return importlib.import_module(f"lossgrade.{part}.{path.stem}")
    return pyfiles.load(f"lossgrade_course_{part}_{path.stem}", path)


@functools.cache
def _checks(exercise: Exercise, path: Path | None) -> Checks:
    if path is None:
        raise LossgradeError(f"{exercise.id} has no checks: write them in "
                             f"{folder(exercise.root, 'checks') / exercise.file}")
    module = load_module("checks", path)
    found: Any = getattr(module, "checks", None)
    if not isinstance(getattr(found, "module", None), str) or not hasattr(found, "all"):  # not a `Checks`
        raise LossgradeError(f"{path}: defines no `checks = Checks({exercise.module!r})`")
    if found.module != exercise.module:
        raise LossgradeError(f"{path}:{_line_of(path, 'Checks(')}: Checks({found.module!r}) names another exercise; "
                             f"these are the checks of {exercise.id}, so write Checks({exercise.module!r})")
    return found


@functools.cache
def _drivers(module: str, path: Path) -> dict[str, Any]:
    try:
        loaded = pyfiles.load(f"lossgrade_course_drivers_{module}", path)
    except Exception as exc:  # noqa: BLE001 - any error in the course's own file, said in one line
        line = exc.lineno if isinstance(exc, SyntaxError) else next(
            (f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if Path(f.filename) == path), 1)
        raise LossgradeError(f"{path}:{line}: the drivers file does not load: {type(exc).__name__}: {exc}") from None
    found = getattr(loaded, "DRIVERS", None)
    if not isinstance(found, dict) or not all(isinstance(k, str) and callable(v) for k, v in found.items()):
        raise LossgradeError(f"{path}:{_line_of(path, 'DRIVERS')}: defines no `DRIVERS = {{name: function}}`")
    return dict(found)


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

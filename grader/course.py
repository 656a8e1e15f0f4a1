"""Where the course material lives: exercise stubs and metadata, reference solutions,
checks, misconceptions and quizzes.

The built-in course ships inside the package (in a clone, `grader/_course/*` are symlinks
to the repository's top-level folders; in a wheel, setuptools copies their contents), read
through importlib.resources so `lossgrade` works from any folder. An instructor's course
folder (`lossgrade --course DIR`, or LOSSGRADE_COURSE) is layered on top: it uses the same
layout, adds exercises and quizzes, and replaces built-in ones that share an id.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

ENV = "LOSSGRADE_COURSE"


def course_root() -> Path:
    """The built-in course: exercises/, solutions/ and quizzes/ shipped with lossgrade."""
    return Path(str(resources.files("lossgrade") / "_course"))


def extra_root() -> Path | None:
    """The instructor's course folder layered over the built-in one, if any."""
    override = os.environ.get(ENV)
    return Path(override).resolve() if override else None


def roots() -> list[Path]:
    """Every course folder in force, the built-in one first (later ones win)."""
    extra = extra_root()
    return [course_root()] + ([extra] if extra else [])


def exercises_dir() -> Path:
    return course_root() / "exercises"


def solutions_dir() -> Path:
    return course_root() / "solutions"


def quizzes_dir() -> Path:
    return course_root() / "quizzes"


def templates_dir() -> Path:
    return Path(str(resources.files("lossgrade") / "templates"))

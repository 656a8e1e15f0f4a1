"""Where the course material lives: exercise stubs and metadata, reference solutions, quizzes.

In a clone, `grader/_course/*` are symlinks to the repository's top-level folders; in a
wheel, setuptools copies their contents into the package. Either way they are read through
importlib.resources, so `lossgrade` works from any folder.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def course_root() -> Path:
    """The folder holding exercises/, solutions/ and quizzes/ (an instructor's course
    folder given by LOSSGRADE_COURSE wins over the built-in one)."""
    override = os.environ.get("LOSSGRADE_COURSE")
    if override:
        return Path(override)
    return Path(str(resources.files("lossgrade") / "_course"))


def exercises_dir() -> Path:
    return course_root() / "exercises"


def solutions_dir() -> Path:
    return course_root() / "solutions"


def quizzes_dir() -> Path:
    return course_root() / "quizzes"


def templates_dir() -> Path:
    return Path(str(resources.files("lossgrade") / "templates"))

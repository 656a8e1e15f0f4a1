"""The course catalogue: every exercise's metadata, as the course in force has it.

One metadata source per exercise (title, file, functions, points, quiz, forbidden calls,
hints): `exercises/info.yaml` of each course folder, loaded and validated by
`lossgrade.course` (see `Course.load`). Exercise ids are resolved leniently: `3`, `ex3`,
`ex03` and `ex03_cross_entropy` all mean the same exercise, and an unknown id gets the
closest valid one as a suggestion.
"""
from __future__ import annotations

from lossgrade import course
from lossgrade.course import FORMAT, VISIBILITIES, Exercise

__all__ = ["FORMAT", "VISIBILITIES", "Exercise", "exercises", "resolve"]


def exercises() -> tuple[Exercise, ...]:
    """Every exercise of the course in force, in id order: the built-in ones, with an
    instructor's course folder adding exercises and replacing those that share an id."""
    return course.current().exercises


def resolve(text: str) -> Exercise:
    """The exercise that `text` names (3, ex3, ex03, ex03_cross_entropy, the file name)."""
    return course.current().exercise(text)

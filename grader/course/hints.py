"""Hints, gentle first: which ones to show next, and remembering how many were shown.

`lossgrade hint` and `lossgrade.hint()` share this, so both reveal hints in the same order
and count them in the same place: the workspace's state file when there is a workspace,
else a plain dict that the caller keeps (the Python API keeps one per process).
"""
from __future__ import annotations

from dataclasses import dataclass

from lossgrade.course.catalog import Exercise
from lossgrade.core.errors import LossgradeError
from lossgrade.course.workspace import Workspace

LAST = "That was the last hint; the exercise's docstring and `lossgrade check` feedback say the rest."


@dataclass(frozen=True)
class Revealed:
    """The hints to show now, by number (1 = the gentlest)."""

    exercise: Exercise
    numbers: tuple[int, ...]
    last: bool  # this call reached the last hint (said once, not on --all)

    @property
    def hints(self) -> list[tuple[int, str]]:
        return [(n, self.exercise.hints[n - 1]) for n in self.numbers]

    def lines(self) -> list[str]:
        """What `lossgrade hint` prints, one line per hint."""
        total = len(self.exercise.hints)
        lines = [f"Hint {n}/{total} for {self.exercise.id}: {text}" for n, text in self.hints]
        if self.last:
            lines.append(LAST)
        return lines


def reveal(exercise: Exercise, show_all: bool, counts: dict[str, int]) -> Revealed:
    """The next hint (or, with `show_all`, every hint shown so far); updates `counts`."""
    if not exercise.hints:
        raise LossgradeError(f"{exercise.id} has no hints")
    count = min(counts.get(exercise.id, 0) + (0 if show_all else 1), len(exercise.hints))
    counts[exercise.id] = count
    numbers = tuple(range(1 if show_all else count, count + 1))
    return Revealed(exercise, numbers, last=count == len(exercise.hints) and not show_all)


def next_hints(exercise: Exercise, show_all: bool, workspace: Workspace | None,
               memory: dict[str, int] | None = None) -> Revealed:
    """`reveal`, counting in the workspace's state when there is a workspace, else in
    `memory` (hints shown without either are simply not remembered)."""
    if workspace is None:
        return reveal(exercise, show_all, memory if memory is not None else {})
    saved = workspace.load_state().get("hints")
    counts = {key: value for key, value in saved.items() if isinstance(value, int)} if isinstance(saved, dict) else {}
    revealed = reveal(exercise, show_all, counts)
    workspace.update_state(hints=counts)
    return revealed

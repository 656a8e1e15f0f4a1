"""The time a submission's calls may take, all together: a submission that is correct but slow
(each of ~170 calls taking up to a call's limit) would otherwise hold a grader for hours.
`submission_budget` opens one for a block; every exchange with a worker inside it counts
against it (connection.py)."""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass

from lossgrade.sandbox.replies import Reply


@dataclass
class Budget:
    """The time a submission's calls may still take, across all its exercises and checks."""

    seconds: float
    used: float = 0.0

    def left(self) -> float:
        return self.seconds - self.used

    def spent(self) -> Reply:
        return Reply(kind="timeout", message=f"the submission's time budget of {self.seconds:g} s ran out before this "
                                             f"check could finish (all its calls together; `--budget` sets it)")


_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("lossgrade_budget", default=None)


@contextlib.contextmanager
def submission_budget(seconds: float | None) -> Iterator[Budget | None]:
    """Within this block, every call to a worker counts against one budget of `seconds`
    (None: no budget); once it is spent, the remaining calls fail at once, saying so."""
    budget = Budget(seconds) if seconds is not None else None
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def current() -> Budget | None:
    """The budget of the submission being graded, or None outside `submission_budget`."""
    return _BUDGET.get()

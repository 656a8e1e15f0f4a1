"""User-facing errors: each becomes one line on stderr and a named exit code, never a
traceback.

These are the domain's errors, free of any front-end: the command line turns them into
click's one-line "Error: ..." (`lossgrade.cli.clickerrors`), the notebook API into a result
that says what to fix, batch grading into a status in the gradebook.
"""
from __future__ import annotations

from lossgrade.core.exitcodes import ExitCode

__all__ = ["ExitCode", "LossgradeError", "SandboxError"]


class LossgradeError(Exception):
    """A mistake in what the user asked for or gave us, with the fix in the message."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the learner's code): the grader cannot go on."""

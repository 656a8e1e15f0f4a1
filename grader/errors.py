"""User-facing errors: each becomes one line on stderr and a named exit code, never a
traceback."""
from __future__ import annotations

import enum

import click


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # some check failed (check), or the grader itself failed (grade)
    USAGE = 2  # bad input: unknown exercise, malformed file, missing folder


class LossgradeError(click.ClickException):
    """A mistake in what the user asked for or gave us, with the fix in the message."""

    exit_code = ExitCode.USAGE

"""User-facing errors: each becomes one line on stderr and a named exit code, never a
traceback."""
from __future__ import annotations

import click

from lossgrade.exitcodes import ExitCode

__all__ = ["ExitCode", "LossgradeError"]


class LossgradeError(click.ClickException):
    """A mistake in what the user asked for or gave us, with the fix in the message."""

    exit_code = ExitCode.USAGE

"""The command line's translation of the domain's errors: a `LossgradeError` raised
anywhere under a command becomes click's one line on stderr ("Error: ...") and the error's
exit code (2, see `lossgrade.core.exitcodes`), never a traceback."""
from __future__ import annotations

from typing import Any

import click

from lossgrade.core.errors import LossgradeError


def _translated(exc: LossgradeError) -> click.ClickException:
    class Translated(click.ClickException):
        exit_code = int(exc.exit_code)

    return Translated(exc.message)


class Command(click.Command):
    """A click command that reports a LossgradeError as one line (`cls=Command`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LossgradeError as exc:
            raise _translated(exc) from exc


class Group(click.Group):
    """A click group that reports a LossgradeError raised by itself or by any command
    under it as one line (`cls=Group`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LossgradeError as exc:
            raise _translated(exc) from exc

"""`lossgrade course new DIR` and `lossgrade course check [DIR]`: instructors' own exercises,
checks, misconceptions and quizzes, in the layout lossgrade's built-in course uses."""
from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import click

from lossgrade.core.errors import LossgradeError
from lossgrade.core.exitcodes import ExitCode


@click.group("course")
def course_group() -> None:
    """Write and check a course folder of your own (use it with `lossgrade --course DIR`)."""


@course_group.command("new")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def new(directory: Path) -> None:
    """Scaffold a course folder in DIRECTORY with one worked example exercise (ex90)."""
    if directory.exists() and any(directory.iterdir()):
        raise LossgradeError(f"{directory} is not empty; pick a new folder for the course")
    template = Path(str(resources.files("lossgrade") / "course_template"))
    shutil.copytree(template, directory, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    click.echo(f"Created a course in {directory} with the example exercise ex90 (log-cosh loss).")
    click.echo(f"Check it with `lossgrade course check {directory}`; "
               f"use it with `lossgrade --course {directory} check ex90`.")


@course_group.command("check")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
def check(directory: Path | None) -> None:
    """Self-check a course folder (default: the built-in course): stubs fail as not started,
    solutions pass on every device, misconceptions are caught, quizzes validate."""
    from lossgrade.grading import selfcheck

    report = selfcheck.run(directory.resolve() if directory else None)  # the built-in folder or DIR, proved alike
    for problem in report.problems:
        click.echo(problem)
    click.echo(report.summary())
    if report.problems:
        raise SystemExit(ExitCode.USAGE)  # the course's material is set-up to fix, as for `quiz --validate`

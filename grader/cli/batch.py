"""The instructor's commands: `lossgrade grade` and `lossgrade export`."""
from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click
from lossgrade.grading import shard as shards
from lossgrade.core import interrupts
from lossgrade.core.errors import ExitCode, LossgradeError
from lossgrade.sandbox.client import Limits

if TYPE_CHECKING:  # the batch modules load only when a command runs: `lossgrade check` stays quick
    from lossgrade.grading.records import Batch, Record

INTERRUPTED = ExitCode.INTERRUPTED


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@click.command()
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True, help="The folder for the gradebook, the reports and the saved results.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=_cores(), show_default="all cores",
              help="How many submissions to grade at once.")
@click.option("--force", is_flag=True, help="Grade every submission again, even those graded before and unchanged.")
@click.option("--junit", "with_junit", is_flag=True, help="Also write RESULTS/junit.xml (JUnit XML for CI).")
@click.option("--exercise", "-e", "chosen", multiple=True, help="Grade only this exercise (repeatable; default: all).")
@click.option("--strong", is_flag=True,
              help="Run learners' code under bubblewrap: no network, and the class, the results and the "
                   "solutions out of sight.")
@click.option("--shard", "spec", metavar="I/N", callback=shards.option,
              help="Grade only shard I of N (1/4 ... 4/4), chosen by a hash of the learner id; "
                   "`lossgrade merge` combines the shards' results (docs/SCALE.md).")
@click.option("--budget", type=click.FloatRange(min=0.1), default=Limits.budget_seconds, show_default=True,
              help="Seconds all the calls of one submission may take together; its later checks then fail, saying so.")
@click.option("--secret", "secret_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The grading secret's file, made there by the first run that needs it (default: "
                   "RESULTS/lossgrade-secret). Every shard of a class needs the same one.")
def grade(submissions: Path, out: Path, jobs: int, force: bool, with_junit: bool, chosen: tuple[str, ...],
          strong: bool, spec: shards.Spec | None, budget: float, secret_file: Path | None) -> None:
    """Grade a class: every submission in SUBMISSIONS, into a gradebook and reports.

    SUBMISSIONS holds a folder or .zip per learner, named by the learner's id, with the
    exercise files at its top level or under exercises/ and, optionally, quiz-answers.yaml.
    Canvas, Moodle and Gradescope bulk downloads and GitHub Classroom repositories are read
    as they come; misnamed files and notebooks are matched to their exercise, and every
    file not graded is listed with the reason. Every exercise and quiz is graded, in
    parallel. A rerun grades only what changed since the last one (with -e, the other
    exercises keep their results); Ctrl-C keeps every submission already graded. Exit
    code 0: all graded; 1: some submission could not be graded; 2: nothing could be. Learner code never reads
    the class or the results folder: its guards refuse, and with --strong they are not
    even there. With --shard I/N, only the learners of shard I are graded, and
    RESULTS/shard.json records which, for `lossgrade merge`."""
    if spec and secret_file is None:
        raise click.UsageError("--shard needs --secret FILE, the same file for every shard: the grading secret "
                               "decides the checks' hidden inputs, and shards graded with different ones cannot be "
                               "merged (the first shard to run makes the file)")
    if not submissions.is_dir():
        what = "is not a folder" if submissions.exists() else "does not exist"
        raise LossgradeError(f"{submissions} {what}: give the folder holding one folder or .zip per learner")
    from lossgrade.grading import discover

    if discover.looks_like_one_submission(submissions):
        raise LossgradeError(f"{submissions} holds exercise files itself, as one learner's folder does: "
                             "give the folder above it, holding one folder or .zip per learner")
    found = discover.discover(submissions, exclude=out, keep=spec.owns if spec else None)
    if not found.submissions and (not spec or not discover.discover(submissions, exclude=out).submissions):
        raise LossgradeError(f"no submissions in {submissions}: expected a folder or .zip per learner"
                             + (f" (it holds only {', '.join(found.ignored[:3])})" if found.ignored else ""))
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LossgradeError(f"cannot create the results folder {out} ({exc.strerror}); choose another with --out")
    if not os.access(out, os.W_OK | os.X_OK):
        raise LossgradeError(f"cannot write to the results folder {out}; choose another with --out")
    shards.forget(out)  # until this run ends, no finished shard is here
    if strong:
        from lossgrade.sandbox import strong as strong_mode

        usable, why = strong_mode.available()
        if not usable:
            raise LossgradeError(f"--strong cannot run here: {why}")
    from lossgrade.output import exports
    from lossgrade.grading.grade import grade_class
    from lossgrade.grading.pool import SandboxUnavailable
    from lossgrade.grading.progress import Progress

    bar = Progress(0)

    def planned(pending: int) -> None:
        bar.total = pending
        bar.draw("starting the graders")  # torch and the sandboxes take a few seconds

    now = datetime.datetime.now(datetime.timezone.utc)  # every report shows what its learner may see then
    early: set[str] = set()  # learners whose own files were written as they were graded

    def graded(record: Record) -> None:
        try:
            exports.write_learner_files(out, record, now)
        except OSError:  # written again with the rest, which says what went wrong
            return
        early.add(record.learner)

    try:
        batch = grade_class(submissions, out, jobs=jobs, force=force, chosen=chosen, strong=strong, progress=bar,
                            on_plan=planned, found=found, budget=budget, secret_file=secret_file, on_graded=graded)
        written = exports.write_all(out, batch, with_junit, now=now, written=early)
        if spec:
            shards.write_manifest(out, spec, batch, submissions)
    except SandboxUnavailable as exc:
        if created:  # this run's results folder: none of it stays, the secret it made there neither
            from lossgrade.checks.secret import SECRET_FILE

            (out / SECRET_FILE).unlink(missing_ok=True)
            _remove_if_empty(out)
        raise LossgradeError(f"nothing graded: {exc}; nothing was written") from None
    except BaseException as exc:
        if not interrupts.caused_by_ctrl_c(exc):
            raise
        bar.close()
        click.echo(f"Interrupted: {bar.done} submissions graded in this run are saved in {out / 'records'}; "
                   "run the same command again to grade the rest.", err=True)
        raise SystemExit(INTERRUPTED)
    for line in batch.problems:
        click.echo(line)
    if spec and not batch.records:
        click.echo(f"Shard {spec}: no learner of {submissions} falls in this shard; wrote an empty gradebook and "
                   f"{shards.MANIFEST} in {out}/, for `lossgrade merge`.")
    else:
        click.echo((f"Shard {spec}: " if spec else "") + _summary(batch, out, written))
    if batch.grader_failed or batch.rejected:
        raise SystemExit(ExitCode.FAILED)


def _remove_if_empty(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir():
            try:
                path.rmdir()
            except OSError:
                return
    try:
        folder.rmdir()
    except OSError:
        pass


def _summary(batch: Batch, out: Path, written: list[Path]) -> str:
    """One line that claims no more than was done: how many were graded, how many rejected
    (and who: their reasons are on the lines above), the files not graded, and the means
    over the submissions that were graded."""
    from lossgrade.output.stats import percent

    graded = [r for r in batch.records if not r.result.error]
    counts = f"{len(graded)} graded, {len(batch.rejected)} rejected"
    if batch.rejected:
        shown = ", ".join(batch.rejected[:5]) + (f" and {len(batch.rejected) - 5} more" if len(batch.rejected) > 5 else "")
        counts += f" ({shown}: why above)"
    if batch.unread_files:
        counts += f", {batch.unread_files} files not graded (listed above)"
    names = ", ".join(p.name + ("/" if p.suffix == "" else "") for p in written)
    line = f"{counts} in {batch.seconds:.1f} s ({batch.fresh} graded now, {batch.reused} unchanged)"
    if graded:
        mean = sum(percent(r.result.score, r.result.max_score) for r in graded) / len(graded)
        complete = sum(all(e.status.value == "passed" for e in r.result.exercises) for r in graded)
        line += f": class mean {mean:.0f}% of {_points(graded[0].result.max_score)} points, {complete} passed every exercise"
    return f"{line}. Wrote {names} in {out}/."


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


@click.group()
def export() -> None:
    """Export the course for the platforms courses already use."""


@export.command("gradescope")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="Where to write the autograder bundle.")
def export_gradescope(out: Path) -> None:
    """Write a Gradescope autograder bundle (setup.sh, run_autograder, lossgrade with its
    checks) that grades one submission there; see docs/GRADESCOPE.md."""
    from lossgrade.cli import autograder

    try:
        autograder.build_bundle(out)
    except OSError as exc:
        raise LossgradeError(f"cannot write {out} ({exc.strerror or exc}); choose another place with --out") from None
    click.echo(f"Wrote {out}: upload it as the autograder of a Gradescope programming assignment.")


@click.command("merge")
@click.argument("shard_results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True, help="The folder for the merged gradebook, reports and records.")
@click.option("--junit", "with_junit", is_flag=True, help="Also write RESULTS/junit.xml (JUnit XML for CI).")
def merge_command(shard_results: tuple[Path, ...], out: Path, with_junit: bool) -> None:
    """Combine the results folders of `lossgrade grade --shard I/N` (every shard of one
    split) into one results folder, the same as one run over the whole class would write."""
    from lossgrade.output.gradebook import points

    from lossgrade.output.merge import merge

    batch, found, written = merge(list(shard_results), out, with_junit)
    for one in found:
        for line in one.problems:
            click.echo(line)
    graded = [r for r in batch.records if not r.result.error]
    score = sum(r.result.score for r in graded)
    best = sum(r.result.max_score for r in graded)
    names = ", ".join(p.name + ("/" if p.suffix == "" else "") for p in written)
    rejected = f" ({', '.join(batch.rejected[:5])}{' ...' if len(batch.rejected) > 5 else ''}: why above)" if batch.rejected else ""
    click.echo(f"Merged {len(found)} shards of {found[0].spec.count}: {len(graded)} graded, {len(batch.rejected)} "
               f"rejected{rejected}, {points(score)}/{points(best)} points in all. Wrote {names} in {out}/.")
    if batch.grader_failed or batch.rejected:  # as one run exits
        raise SystemExit(ExitCode.FAILED)

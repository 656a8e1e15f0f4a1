"""The `lossgrade` command line: one click group, one small function per command.

User mistakes raise `LossgradeError` (one line on stderr, exit code 2); check failures exit
1; data goes to stdout, progress and errors to stderr.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import click

from lossgrade.core import atomicfile, interrupts
from lossgrade.course import catalog, hints
from lossgrade.cli import clickerrors
from lossgrade.cli.batch import export, grade, merge_command
from lossgrade.cli.classroom import github_classroom
from lossgrade.cli.course import course_group
from lossgrade.cli.quiz import quiz
from lossgrade import course
from lossgrade.grading import service
from lossgrade.core.errors import ExitCode, LossgradeError, SandboxError
from lossgrade.output import terminal
from lossgrade.core.results import ExerciseResult, Status, to_dict
from lossgrade.sandbox.client import Limits
from lossgrade.course.workspace import Workspace, init as init_workspace

INTERRUPTED = ExitCode.INTERRUPTED

workspace_option = click.option(
    "--workspace", "-w", "workspace_dir", type=click.Path(file_okay=False, path_type=Path),
    help="The folder holding your exercise files (default: here, or ./exercises).",
)


@click.group(cls=clickerrors.Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lossgrade")
@click.option("--course", "course_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              envvar=course.ENV, help="An instructor's course folder layered over the built-in course.")
@click.pass_context
def cli(ctx: click.Context, course_dir: Path | None) -> None:
    """Exercises and myth-buster quizzes on PyTorch loss functions, checked as you go."""
    if ctx.invoked_subcommand != "course":  # `course check DIR` loads DIR itself, to list every problem
        ctx.obj = ctx.with_resource(course.using(course.Course.load(*([course_dir] if course_dir else []))))


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite exercise files that already exist there.")
def init(directory: Path, force: bool) -> None:
    """Copy the exercise stubs into DIRECTORY, a new workspace."""
    copied = init_workspace(directory, force=force)
    click.echo(f"Created {len(copied)} exercise files in {directory}.")
    click.echo(f"Next: cd {directory} && lossgrade check ex01")


@cli.command("list")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print the statuses as JSON.")
def list_(workspace_dir: Path | None, as_json: bool) -> None:
    """Every exercise with its status, and your progress."""
    workspace = Workspace.find(workspace_dir)
    results = service.progress(workspace)
    if as_json:
        click.echo(json.dumps([_brief(r) for r in results], indent=2))
    else:
        click.echo(terminal.progress(results))
        click.echo(_quiz_total(workspace, sum(r.score for r in results), sum(r.max_score for r in results)))


def _quiz_total(workspace: Workspace, score: float, max_score: float) -> str:
    """The quizzes' points and the course total, counted as the gradebook counts them (a
    point a question; a quiz not taken counts 0), so that every total a learner sees agrees."""
    from lossgrade.quiz import library
    from lossgrade.quiz.progress import last_results

    quizzes = library.quizzes()
    taken = {r.quiz: r for r in last_results(workspace) if r.quiz in quizzes}
    quiz_score = sum(r.score for r in taken.values())
    quiz_max = sum(len(q.questions) for q in quizzes.values())
    return (f"  quizzes: {quiz_score:g}/{quiz_max:g} points ({len(taken)} of {len(quizzes)} taken, `lossgrade quiz`)"
            f" · in all {score + quiz_score:g}/{max_score + quiz_max:g} points, the total your gradebook counts")


def _brief(result: ExerciseResult) -> dict[str, object]:
    return {"exercise": result.exercise, "title": result.title, "status": result.status.value,
            "score": result.score, "max_score": result.max_score}


@cli.command()
@click.argument("exercise", required=False)
@click.option("--all", "check_all", is_flag=True, help="Check every exercise.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--strong", is_flag=True, help="Run your code under bubblewrap: no network, solutions hidden.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=Limits.call_seconds, show_default=True,
              help="Seconds one call of your function may take before it is stopped.")
@click.option("--budget", type=click.FloatRange(min=0.1), default=Limits.budget_seconds, show_default=True,
              help="Seconds all the calls of one run may take together; later checks then fail, saying so.")
@workspace_option
def check(exercise: str | None, check_all: bool, as_json: bool, strong: bool, timeout: float, budget: float,
          workspace_dir: Path | None) -> None:
    """Run the checks of EXERCISE (e.g. ex03, 3, ex03_cross_entropy) on your code."""
    workspace = Workspace.find(workspace_dir)
    chosen = list(catalog.exercises()) if check_all else [_pick(workspace, exercise)]
    limits = Limits(call_seconds=timeout, budget_seconds=budget)
    within = click.get_current_context().find_object(course.Course)  # handed down by `cli`
    with service.open_sandbox(chosen, strong=strong, limits=limits, within=within) as sandbox:  # its torch import overlaps ours
        results = service.grade_folder(sandbox, workspace.root, chosen, within)
    service.remember(workspace, results, current=None if check_all else chosen[0].id)
    if as_json:
        click.echo(json.dumps([to_dict(r) for r in results], indent=2))
    else:
        click.echo("\n\n".join(terminal.exercise(r) for r in results))
    if any(r.status is not Status.PASSED for r in results):
        raise SystemExit(ExitCode.FAILED)


def _pick(workspace: Workspace, text: str | None) -> catalog.Exercise:
    """The exercise named, else the one checked last, else the first one."""
    if text:
        exercise = catalog.resolve(text)
    else:
        current = workspace.load_state().get("current")
        exercise = catalog.resolve(current) if current else catalog.exercises()[0]
    if not workspace.exercise_file(exercise).is_file():
        raise LossgradeError(f"{workspace.exercise_file(exercise)} does not exist; `lossgrade init` makes a workspace with every exercise")
    return exercise


@cli.command()
@click.argument("exercise")
@click.option("--all", "show_all", is_flag=True, help="Show every hint shown so far again.")
@workspace_option
def hint(exercise: str, show_all: bool, workspace_dir: Path | None) -> None:
    """Show the next hint for EXERCISE, gentle first."""
    chosen = catalog.resolve(exercise)
    try:
        workspace: Workspace | None = Workspace.find(workspace_dir)
    except LossgradeError:
        workspace = None  # hints work without a workspace; they are just not remembered
    for line in hints.next_hints(chosen, show_all, workspace).lines():
        click.echo(line)


@cli.command()
@click.argument("exercise", required=False)
@click.option("--interval", default=0.5, show_default=True, help="Seconds between looks at the file.")
@click.option("--max-runs", type=int, hidden=True, help="Stop after this many checks (for tests).")
@workspace_option
def watch(exercise: str | None, interval: float, max_runs: int | None, workspace_dir: Path | None) -> None:
    """Re-check the current exercise every time you save it; Ctrl-C stops."""
    workspace = Workspace.find(workspace_dir)
    current = _pick(workspace, exercise)
    runs, seen = 0, None
    within = click.get_current_context().find_object(course.Course)  # handed down by `cli`
    with service.open_sandbox(strong=False, within=within) as sandbox:
        try:
            while max_runs is None or runs < max_runs:
                digest = service.file_digest(workspace.exercise_file(current))
                if digest != seen:
                    seen, runs = digest, runs + 1
                    result = service.grade_folder(sandbox, workspace.root, [current], within)[0]
                    service.remember(workspace, [result], current=current.id)
                    click.echo(terminal.exercise(result, verbose_passes=False))
                    if result.status is Status.PASSED:
                        current = _next_unfinished(workspace, current)
                        click.echo(f"\nWell done! Next: {current.id} · {current.title} ({current.file})")
                        seen = None
                    click.echo(f"\nWatching {current.file} (Ctrl-C to stop)...", err=True)
                time.sleep(interval)
        except BaseException as exc:
            if not interrupts.caused_by_ctrl_c(exc):
                raise
            click.echo("\nStopped watching.", err=True)
            raise SystemExit(INTERRUPTED) from None


def _next_unfinished(workspace: Workspace, after: catalog.Exercise) -> catalog.Exercise:
    ordered = list(catalog.exercises())
    later = ordered[ordered.index(after) + 1:] + ordered[: ordered.index(after) + 1]
    for exercise in later:
        previous = service.remembered(workspace, exercise)
        if previous is None or previous.status is not Status.PASSED:
            return exercise
    return after


@cli.command()
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the HTML file (default: the workspace's lossgrade-report.html).")
@workspace_option
def report(out_path: Path | None, workspace_dir: Path | None) -> None:
    """Write your progress, every check's feedback and your quiz scores as one HTML page."""
    from lossgrade.quiz.progress import last_results
    from lossgrade.output.html import render_learner_report
    from lossgrade.core.results import SubmissionResult
    from lossgrade.course.workspace import atomic_write_text

    from lossgrade.quiz import grading, library

    workspace = Workspace.find(workspace_dir)
    taken = {r.quiz: r for r in last_results(workspace)}
    quizzes = [taken.get(q.id) or grading.grade(q, {}) for q in library.quizzes().values()]  # as the gradebook counts
    result = SubmissionResult(learner=workspace.root.name, exercises=service.progress(workspace), quizzes=quizzes)
    target = out_path or workspace.root / "lossgrade-report.html"
    atomic_write_text(target, render_learner_report(result))
    click.echo(f"Wrote {target}")


@cli.command()
@click.option("--id", "learner", help="Your learner id, the zip's name (default: the workspace folder's name).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the zip (default: ID.zip in the current folder).")
@workspace_option
def submit(learner: str | None, out_path: Path | None, workspace_dir: Path | None) -> None:
    """Pack your exercise files and your quiz answers into one zip to hand in.

    The zip holds every exercise file of your workspace and quiz-answers.yaml (the answers of
    the last finished run of each quiz you took with `lossgrade quiz`), laid out as
    `lossgrade grade` reads a submission."""
    import zipfile

    from lossgrade.quiz import library
    from lossgrade.quiz import progress as quiz_progress

    workspace = Workspace.find(workspace_dir)
    learner = learner or workspace.root.resolve().name
    if not learner or "/" in learner or learner.startswith("."):
        raise LossgradeError(f"{learner!r} cannot name a submission: give your learner id with --id")
    target = out_path or Path(f"{learner}.zip")
    files = [(e.file, workspace.exercise_file(e)) for e in catalog.exercises() if workspace.exercise_file(e).is_file()]
    quizzes = library.quizzes()
    answers_path = workspace.root / quiz_progress.ANSWERS_FILE
    if answers_path.is_file():  # the terminal quiz's answers, and any written by hand: checked before it goes in
        from lossgrade.quiz.answers import read as read_answers

        answers = {quiz_id: dict(given) for quiz_id, given in read_answers(answers_path, quizzes).items()}
        answers_text = answers_path.read_text(encoding="utf-8")
    else:
        answers = quiz_progress.last_answers(workspace, quizzes)
        answers_text = quiz_progress.answers_yaml(answers)
    if not files and not answers:
        raise LossgradeError(f"nothing to submit in {workspace.root}: no exercise file and no quiz taken")
    with atomicfile.replacing(target) as temporary, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in files:
            archive.write(path, name)
        archive.writestr(quiz_progress.ANSWERS_FILE, answers_text)
    taken = [f"{quiz_id} ({len(given)}/{len(quizzes[quiz_id].questions)} answered)" for quiz_id, given in answers.items()]
    unfinished = [q for q in quizzes if q not in answers]
    if taken:
        quiz_text = f"quiz-answers.yaml with {', '.join(taken)}"
        quiz_text += f"; not finished: {', '.join(unfinished)}" if unfinished else ""
    else:
        quiz_text = "quiz-answers.yaml with no quiz finished yet (`lossgrade quiz` lists them)"
    click.echo(f"Wrote {target}: {len(files)} exercise files ({', '.join(name for name, _ in files)}) and {quiz_text}.")


def main() -> None:
    """The `lossgrade` command. Ctrl-C in any command ends it quietly with exit code 130
    (each command says what it kept), never click's "Aborted!" and exit code 1, and never a
    traceback where a library turned it into an error of its own."""
    try:
        code = cli.main(standalone_mode=False)
    except BaseException as exc:
        if isinstance(exc, click.exceptions.Abort) or interrupts.caused_by_ctrl_c(exc):
            raise SystemExit(INTERRUPTED) from None
        if isinstance(exc, click.ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        if isinstance(exc, SandboxError):  # e.g. --strong where bubblewrap cannot run: one line, not a traceback
            click.echo(f"Error: {exc}", err=True)
            raise SystemExit(ExitCode.USAGE) from None
        raise
    raise SystemExit(code if isinstance(code, int) else 0)


cli.add_command(grade)
cli.add_command(export)
cli.add_command(merge_command)
export.add_command(github_classroom)
cli.add_command(quiz)
cli.add_command(course_group)

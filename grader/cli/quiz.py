"""`lossgrade quiz`: list the quizzes, take one, grade a file of answers, or validate quizzes.

The command only picks a mode and prints; loading, grading, validating and the terminal loop
live in their own modules. Data goes to stdout, messages to stderr; bad input is a one-line
`LossgradeError` (exit code 2) raised before anything is written.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from lossgrade.cli import clickerrors
from lossgrade.core.errors import ExitCode, LossgradeError
from lossgrade.cli import quiz_interactive as interactive
from lossgrade.quiz import library, progress
from lossgrade.quiz.grading import grade_answers_file
from lossgrade.output.quiz_report import echo, render, score_line
from lossgrade.quiz.validate import expand, validate
from lossgrade.core.results import to_dict
from lossgrade.course.workspace import Workspace


def _print_json(data: Any) -> None:
    echo(json.dumps(data, indent=2))


def _optional_workspace(explicit: Path | None) -> Workspace | None:
    """The workspace, if any: listing quizzes works without one (and shows no scores)."""
    if explicit is not None:
        return Workspace.find(explicit)
    try:
        return Workspace.find()
    except LossgradeError:
        return None


def _list(workspace: Workspace | None, as_json: bool) -> None:
    quizzes = list(library.quizzes().values())
    best = progress.best_scores(workspace) if workspace else {}
    unfinished = {quiz.id for quiz in quizzes if workspace and progress.load(workspace, quiz)}
    if as_json:
        return _print_json([
            {"id": quiz.id, "title": quiz.title, "topic": quiz.topic, "questions": len(quiz.questions),
             "best": best.get(quiz.id, (None, None))[0], "max_score": best.get(quiz.id, (None, None))[1],
             "in_progress": quiz.id in unfinished}
            for quiz in quizzes
        ])
    width = max([len(quiz.id) for quiz in quizzes] + [4])
    echo(f"{'QUIZ':<{width}}  QUESTIONS  BEST    TITLE")
    for quiz in quizzes:
        shown_best = score_line(*best[quiz.id]) if quiz.id in best else "-"
        resume = " (in progress)" if quiz.id in unfinished else ""
        echo(f"{quiz.id:<{width}}  {len(quiz.questions):>9}  {shown_best:<6}  {quiz.title}{resume}")
    echo("Take one with `lossgrade quiz QUIZ`.", err=True)


def _grade(quiz_id: str | None, answers_path: Path, as_json: bool) -> None:
    if quiz_id is not None:
        library.get(quiz_id)  # an unknown id is reported as such, before the file is read
    results = grade_answers_file(answers_path)
    if quiz_id is not None:
        results = [r for r in results if r.quiz == quiz_id]
    if not results:
        wanted = f"quiz {quiz_id}; add a `{quiz_id}:` section" if quiz_id else "any quiz; start it with a quiz id, e.g. `logits:`"
        raise LossgradeError(f"{answers_path}:1: no answers for {wanted}")
    if as_json:
        _print_json([to_dict(r) for r in results])
    else:
        echo("\n\n".join(render(r) for r in results))
    if any(r.score < r.max_score for r in results):  # as `lossgrade check`: 1 when any answer is wrong or missing
        raise click.exceptions.Exit(ExitCode.FAILED)


def _validate(target: str, as_json: bool) -> None:
    paths = [Path(target)] if target else None
    for path in paths or []:
        if not path.exists():
            raise LossgradeError(f"{path}: no such quiz file or folder")
    problems = validate(paths)
    if as_json:
        _print_json([{"file": str(p.path), "line": p.line, "message": p.message} for p in problems])
    else:
        for problem in problems:
            echo(str(problem))
        files = len(expand(paths)) if paths else len(library.quiz_files())
        echo(f"{len(problems)} problem(s) in {files} quiz file(s)" if problems else f"{files} quiz file(s): all valid")
    if problems:
        raise click.exceptions.Exit(ExitCode.USAGE)  # a quiz that does not validate is a set-up error


@click.command("quiz", cls=clickerrors.Command)
@click.argument("quiz_id", metavar="[QUIZ]", required=False)
@click.option("--answers", "answers_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Grade this answers file (quiz id, then question id, then answer) without asking anything.")
@click.option("--json", "as_json", is_flag=True, help="Print the list, the results or the problems as JSON.")
@click.option("--validate", "validate_target", is_flag=False, flag_value="", default=None, metavar="[FILE]",
              help="Check quiz files (default: the course's), running their code against the answers.")
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path),
              help="Where your scores and progress are kept (default: found from the current folder).")
@click.option("--seed", type=int, help="Show the choices in this shuffled order (default: a new order each run).")
def quiz(quiz_id: str | None, answers_path: Path | None, as_json: bool, validate_target: str | None,
         workspace: Path | None, seed: int | None) -> None:
    """Myth-buster quizzes: list them with your best scores, take one, or grade answers.

    \b
      lossgrade quiz                   list the quizzes and your best scores
      lossgrade quiz logits            take the quiz `logits`, one question at a time
      lossgrade quiz --answers FILE    grade every quiz that FILE answers (exit code 1 unless all right)
      lossgrade quiz --validate [FILE] check quiz files and run their code
    """
    if validate_target is not None:
        if quiz_id or answers_path:
            raise click.UsageError("--validate checks quiz files; it takes no QUIZ and no --answers")
        return _validate(validate_target, as_json)
    if answers_path is not None:
        return _grade(quiz_id, answers_path, as_json)
    if quiz_id is None:
        return _list(_optional_workspace(workspace), as_json)
    if as_json:
        raise click.UsageError("--json needs --answers: an interactive quiz talks to a person")
    chosen = library.get(quiz_id)
    interactive.run(chosen, Workspace.find(workspace), seed)

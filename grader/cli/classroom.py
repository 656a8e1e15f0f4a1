"""GitHub Classroom's front-ends: `lossgrade export github-classroom` (the assignment's
template repository) and `python -m lossgrade.cli.classroom CHECK.json --exit-code N`, which
the workflow runs to turn `lossgrade check --all --json` into the runner result GitHub
Classroom's reporter reads. The workflow's text and the result's format are output
(`lossgrade.output.classroom`)."""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import click

from lossgrade.output.classroom import WORKFLOW, runner_result, workflow


def main(argv: list[str] | None = None) -> int:
    """`python -m lossgrade.cli.classroom CHECK.json --exit-code N`: print the `result=`
    line a GitHub Actions step writes to $GITHUB_OUTPUT, and a line per exercise on stderr
    (the step's log)."""
    import argparse

    from lossgrade.output.gradebook import points

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("check_json", type=Path, help="what `lossgrade check --all --json` printed")
    parser.add_argument("--exit-code", type=int, default=0, help="its exit code")
    args = parser.parse_args(argv)
    try:
        text = args.check_json.read_text(encoding="utf-8")
    except OSError as exc:
        text = f"cannot read {args.check_json}: {exc.strerror}"
    result = runner_result(text, args.exit_code)
    for test in result["tests"]:
        print(f"{test['name']}: {points(test['score'])} points ({test['status']})", file=sys.stderr)
    print(f"Total: {points(sum(t['score'] for t in result['tests']))}/{points(result['max_score'])}", file=sys.stderr)
    print("result=" + base64.b64encode(json.dumps(result, ensure_ascii=False).encode("utf-8")).decode("ascii"))
    return 0


@click.command("github-classroom")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("classroom-template"),
              show_default=True, help="The assignment's template repository (created, or added to).")
@click.option("--install", default=None, metavar="PIP-SPEC",
              help="What the workflow pip-installs for lossgrade (default: this version, lossgrade==X.Y.Z; "
                   "e.g. a git URL or a wheel's URL of your course's lossgrade).")
@click.option("--workspace", default="exercises", show_default=True,
              help="The folder of the repository that holds the learner's exercise files.")
@click.option("--python", "python_version", default="3.12", show_default=True, help="The Python the workflow uses.")
@click.option("--stubs/--no-stubs", default=True, show_default=True,
              help="Also copy the exercise stubs into the workspace folder (never over existing files).")
def github_classroom(out: Path, install: str | None, workspace: str, python_version: str, stubs: bool) -> None:
    """Write a GitHub Classroom assignment template: .github/workflows/classroom.yml runs
    `lossgrade check --all --json` on every push and reports each exercise's points to
    GitHub Classroom; see docs/SCALE.md."""
    from importlib.metadata import version

    from lossgrade import __version__
    from lossgrade.course import catalog
    from lossgrade.core.errors import LossgradeError
    from lossgrade.course.workspace import atomic_write_text, init

    if Path(workspace).is_absolute() or ".." in Path(workspace).parts:
        raise LossgradeError(f"--workspace {workspace}: give a folder inside the repository, e.g. exercises")
    text = workflow(install or f"lossgrade=={__version__}", workspace, python_version,
                    version("torch").split("+")[0])
    atomic_write_text(out / WORKFLOW, text)
    wrote = [str(WORKFLOW)]
    folder = out / workspace
    if stubs and not any((folder / e.file).exists() for e in catalog.exercises()):
        init(folder)
        wrote.append(f"{workspace}/ (the {len(catalog.exercises())} exercise stubs)")
    gitignore = out / ".gitignore"
    if not gitignore.exists():
        atomic_write_text(gitignore, ".lossgrade/\n__pycache__/\n")
        wrote.append(".gitignore")
    click.echo(f"Wrote {', '.join(wrote)} in {out}/. Push it as the assignment's template repository; "
               f"every push then reports up to {sum(e.points for e in catalog.exercises()):g} points.")


if __name__ == "__main__":
    raise SystemExit(main())

"""GitHub Classroom: `lossgrade export github-classroom --out DIR` writes an assignment's
template repository whose workflow checks the learner's exercises on every push and
reports their points to GitHub Classroom.

The format is GitHub Classroom's current one (since 2024): the autograding configuration
is the workflow `.github/workflows/classroom.yml` itself, with one step per test runner,
each leaving a base64 JSON result in its `result` output, and
`classroom-resources/autograding-grading-reporter@v1` (as Classroom names it in the workflows
it writes today; earlier ones said `education/`) adding the runners' points up and reporting
them (it reads each runner's result from the environment variable `<STEP ID>_RESULTS`).
The older `.github/classroom/autograding.json`, read by `education/autograding`, belongs to
an action archived in May 2024. Classroom's own runners do not fit lossgrade:
`autograding-command-grader` gives all of a test's points or none, by exit code (so nine
exercises would be nine runs of the checks, and a half-right exercise would score 0), and
`autograding-python-grader` counts pytest tests. So the workflow's runner is lossgrade's:
one `lossgrade check --all --json`, turned by `python -m lossgrade.cli.classroom` into
the runner result the reporter reads, one test per exercise with lossgrade's own partial
points and feedback.

The workflow runs in the learner's repository, which the learner can edit: it is for
feedback and provisional points; for grades that count, collect the repositories and run
`lossgrade grade` (see docs/SCALE.md).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


WORKFLOW = Path(".github") / "workflows" / "classroom.yml"
RUNNER = "lossgrade"  # the grading step's id; the reporter reads LOSSGRADE_RESULTS
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
MESSAGE_CHARS = 4000


def workflow(install: str, workspace: str, python: str, torch_version: str) -> str:
    """The workflow, laid out as GitHub Classroom lays out the ones it writes."""
    from lossgrade import __version__

    check = f"lossgrade check --all --json --workspace {_quote(workspace)}"
    return f"""\
# GitHub Classroom autograding, written by `lossgrade export github-classroom` (lossgrade {__version__}).
# On every push: the checks of every exercise (`{check}`), one test per exercise
# with lossgrade's partial points, reported to GitHub Classroom by its grading reporter.
name: Autograding Tests
'on':
- push
- repository_dispatch
- workflow_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 30
    steps:
    - name: Checkout code
      uses: actions/checkout@v4
    - name: Set up Python
      uses: actions/setup-python@v5
      with:
        python-version: '{python}'
    - name: Install lossgrade
      run: |
        python -m pip install --quiet torch=={torch_version} --index-url {TORCH_INDEX}
        python -m pip install --quiet {_quote(install)}
    - name: Check every exercise
      id: {RUNNER}
      run: |
        {check} > "$RUNNER_TEMP/lossgrade-check.json" && code=0 || code=$?
        python -m lossgrade.cli.classroom "$RUNNER_TEMP/lossgrade-check.json" --exit-code "$code" >> "$GITHUB_OUTPUT"
    - name: Autograding Reporter
      uses: classroom-resources/autograding-grading-reporter@v1
      env:
        {RUNNER.upper()}_RESULTS: "${{{{ steps.{RUNNER}.outputs.result }}}}"
      with:
        runners: {RUNNER}
"""


def _quote(text: str) -> str:
    """`text` as one shell word (and plain YAML inside a block)."""
    import shlex

    return shlex.quote(text)


def runner_result(check_output: str, exit_code: int) -> dict[str, Any]:
    """The reporter's runner result (format version 1) from `lossgrade check --all --json`:
    a test per exercise, its score lossgrade's own; "error" when the checks could not run."""
    from lossgrade.course import catalog
    from lossgrade.output.gradebook import points
    from lossgrade.output.gradescope import check_text
    from lossgrade.core.results import Outcome, exercise_from_dict

    most = sum(e.points for e in catalog.exercises())
    try:
        if exit_code not in (0, 1):
            raise ValueError(f"lossgrade check stopped with exit code {exit_code}")
        exercises = [exercise_from_dict(item) for item in json.loads(check_output)]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        message = f"The checks could not run ({exc}); the step's log says why."
        return {"version": 1, "status": "error", "max_score": most,
                "tests": [{"name": "lossgrade check --all", "status": "error", "score": 0, "message": message,
                           "test_code": "", "filename": "", "line_no": 0, "duration": 0}]}
    tests = []
    for exercise in exercises:
        lines = [f"{exercise.exercise}: {points(exercise.score)}/{points(exercise.max_score)} points, {exercise.status.value}."]
        if exercise.error:
            lines.append(exercise.error)
        lines += [f"{check.description}: {check_text(check)}" for check in exercise.checks
                  if check.outcome not in (Outcome.PASSED, Outcome.SKIPPED)]
        passed = exercise.status.value == "passed"
        tests.append({"name": f"{exercise.exercise} · {exercise.title}", "status": "pass" if passed else "fail",
                      "score": round(exercise.score, 2), "message": _capped("\n".join(lines)),
                      "test_code": f"lossgrade check {exercise.exercise}", "filename": "", "line_no": 0,
                      "duration": round(sum(c.duration for c in exercise.checks) * 1000)})
    status = "pass" if tests and all(t["status"] == "pass" for t in tests) else "fail"
    return {"version": 1, "status": status, "max_score": most, "tests": tests}


def _capped(text: str, most: int = MESSAGE_CHARS) -> str:
    """A message short enough that nine of them stay far below the 1 MB a job's outputs may
    hold, whatever the learner's code printed."""
    return text if len(text) <= most else text[: most - 40] + f"\n... ({len(text) - most + 40} more characters)"

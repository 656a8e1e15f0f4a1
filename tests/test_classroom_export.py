"""`lossgrade export github-classroom`: the workflow parses and has what GitHub Classroom
and its grading reporter need, and its grading step, run as the workflow runs it (bash, a
subprocess, $GITHUB_OUTPUT), scores the reference solutions full points and the stubs 0."""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from lossgrade.course import catalog
from lossgrade.output import classroom
from lossgrade.cli.main import cli
from lossgrade.core.results import CheckResult, ExerciseResult, Outcome, Status, to_dict

REPO = Path(__file__).resolve().parents[1]
TOTAL = sum(e.points for e in catalog.exercises())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("classroom") / "template"
    result = CliRunner().invoke(cli, ["export", "github-classroom", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote .github/workflows/classroom.yml, exercises/ (the {len(catalog.exercises())} exercise stubs), "
                                    f".gitignore in {out}/.")
    return out


def steps(template: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load((template / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8"))
    return data["jobs"]["run-autograding-tests"]["steps"]


def run_grading_step(template: Path, repository: Path, tmp_path: Path) -> tuple[dict[str, Any], str]:
    """Run the grading step's script as GitHub Actions runs a `run:` step on Linux
    (`bash -e`, in the repository, with $GITHUB_OUTPUT and $RUNNER_TEMP), with this
    lossgrade on PATH; return the runner result it left in `result` and the log."""
    (grading,) = [s for s in steps(template) if s.get("id") == classroom.RUNNER]
    output = tmp_path / "github_output"
    output.write_text("")
    env = {**os.environ, "GITHUB_OUTPUT": str(output), "RUNNER_TEMP": str(tmp_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-e", "-c", grading["run"]], cwd=repository, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    (line,) = output.read_text().splitlines()
    name, _, value = line.partition("=")
    assert name == "result"
    return json.loads(base64.b64decode(value)), done.stderr


def test_the_workflow_is_github_classrooms_with_lossgrade_as_the_runner(template):
    data = yaml.safe_load((template / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8"))
    assert data["name"] == "Autograding Tests"  # the check run the reporter updates with the points
    assert "push" in data["on"]
    assert data["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    job = data["jobs"]["run-autograding-tests"]
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    uses = [s.get("uses", "") for s in job["steps"]]
    assert uses[0] == "actions/checkout@v4" and uses[-1] == "classroom-resources/autograding-grading-reporter@v1"
    install = next(s["run"] for s in job["steps"] if s.get("name") == "Install lossgrade")
    assert "torch==" in install and "download.pytorch.org/whl/cpu" in install and "lossgrade==" in install
    (grading,) = [s for s in job["steps"] if s.get("id") == classroom.RUNNER]
    assert "lossgrade check --all --json --workspace exercises" in grading["run"]
    reporter = job["steps"][-1]
    assert reporter["with"] == {"runners": classroom.RUNNER}
    # the reporter reads each runner's result from <RUNNER>_RESULTS (upper case)
    assert reporter["env"] == {f"{classroom.RUNNER.upper()}_RESULTS": f"${{{{ steps.{classroom.RUNNER}.outputs.result }}}}"}
    assert sorted(p.name for p in (template / "exercises").glob("ex*.py")) == sorted(e.file for e in catalog.exercises())


def test_the_reference_solutions_score_every_point(template, tmp_path):
    repository = tmp_path / "learner"
    shutil.copytree(template, repository)
    for exercise in catalog.exercises():
        shutil.copyfile(REPO / "solutions" / exercise.file, repository / "exercises" / exercise.file)
    result, log = run_grading_step(template, repository, tmp_path)
    assert (result["version"], result["status"], result["max_score"]) == (1, "pass", TOTAL)
    assert [t["name"].split(" ")[0] for t in result["tests"]] == [e.id for e in catalog.exercises()]
    assert all(t["status"] == "pass" for t in result["tests"])
    assert sum(t["score"] for t in result["tests"]) == TOTAL
    assert log.splitlines()[-1] == f"Total: {TOTAL:g}/{TOTAL:g}"


def test_the_stubs_score_nothing(template, tmp_path):
    result, _ = run_grading_step(template, template, tmp_path)
    assert (result["status"], result["max_score"]) == ("fail", TOTAL)
    assert len(result["tests"]) == len(catalog.exercises())
    assert all(t["status"] == "fail" and t["score"] == 0 for t in result["tests"])
    assert "not started" in result["tests"][0]["message"]


def test_checks_that_cannot_run_are_an_error_not_a_score(template, tmp_path):
    repository = tmp_path / "learner"
    (repository / ".github").mkdir(parents=True)  # no exercises/ folder at all
    shutil.copytree(template / ".github", repository / ".github", dirs_exist_ok=True)
    result, _ = run_grading_step(template, repository, tmp_path)
    assert (result["status"], result["max_score"]) == ("error", TOTAL)
    assert [t["score"] for t in result["tests"]] == [0]
    assert "exit code 2" in result["tests"][0]["message"]


def test_partial_points_and_feedback_come_from_lossgrade():
    failed = CheckResult("ex01.mean", "mse_loss averages", Outcome.FAILED, weight=1.0)
    exercises = [ExerciseResult("ex01", "MSE", Status.FAILED, 2.857142, 10.0, checks=[failed]),
                 ExerciseResult("ex02", "L1", Status.PASSED, 10.0, 10.0)]
    result = classroom.runner_result(json.dumps([to_dict(e) for e in exercises]), 1)
    assert [(t["status"], t["score"]) for t in result["tests"]] == [("fail", 2.86), ("pass", 10.0)]
    assert "mse_loss averages: Failed." in result["tests"][0]["message"]
    assert result["status"] == "fail"
    assert classroom.runner_result("Traceback (most recent call last)", 1)["status"] == "error"
    long = classroom._capped("x" * 10_000)
    assert len(long) < classroom.MESSAGE_CHARS + 50 and long.endswith("more characters)")


def test_export_options_and_refusals(tmp_path):
    out = tmp_path / "t"
    (out / "work").mkdir(parents=True)
    (out / "work" / "ex01_mse.py").write_text("# the instructor's own starting point\n")
    result = CliRunner().invoke(cli, ["export", "github-classroom", "--out", str(out), "--workspace", "work",
                                      "--install", "lossgrade @ git+https://example.org/course/lossgrade@v1"])
    assert result.exit_code == 0
    assert (out / "work" / "ex01_mse.py").read_text() == "# the instructor's own starting point\n"  # never overwritten
    text = (out / ".github" / "workflows" / "classroom.yml").read_text()
    assert "python -m pip install --quiet 'lossgrade @ git+https://example.org/course/lossgrade@v1'" in text
    assert "--workspace work " in text
    for bad in ("/etc", "../elsewhere"):
        result = CliRunner().invoke(cli, ["export", "github-classroom", "--out", str(out), "--workspace", bad])
        assert result.exit_code == 2 and "give a folder inside the repository" in result.stderr

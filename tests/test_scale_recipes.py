"""The recipes of docs/SCALE.md (examples/scale/), validated and run: shell syntax, the fields
each engine requires, and every lossgrade command line in them, expanded by the shell as the
engine would expand it (a stand-in `lossgrade` on PATH records its arguments), then run with
the real CLI against a tiny class: the shards merged must equal one run."""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from lossgrade.grading import shard as shards
from lossgrade.cli.main import cli
from test_batch_shard import CORRECT, SUM_NOT_MEAN, assert_same_results

REPO = Path(__file__).resolve().parents[1]
SECRET = "5e" * 32  # the grading secret every shard and the one run share (the recipes read it)
RECIPES = REPO / "examples" / "scale"
RECORDER = f"""#!{sys.executable}
import json, os, sys
with open(os.environ["CALLS"], "a", encoding="utf-8") as calls:
    calls.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
"""


def tiny_class(folder: Path) -> Path:
    for learner, source in (("ada", CORRECT), ("ben", SUM_NOT_MEAN), ("cleo", CORRECT), ("dev", SUM_NOT_MEAN)):
        (folder / learner).mkdir(parents=True)
        (folder / learner / "ex01_mse.py").write_text(source)
    return folder


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The tiny class and one run of it (every exercise, as the recipes grade)."""
    root = tmp_path_factory.mktemp("recipes")
    folder = tiny_class(root / "class")
    (root / "secret").write_text(SECRET + "\n")
    result = CliRunner().invoke(cli, ["grade", str(folder), "--out", str(root / "single"), "--secret", str(root / "secret")])
    assert result.exit_code == 0, result.output
    return folder, root / "single"


class Shell:
    """Runs recipe scripts with bash, `lossgrade` (and `sbatch`) on PATH recording their
    arguments instead of running; `replay` then runs the recorded lossgrade commands for
    real, in-process, each in the folder it was called from."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        for name in ("lossgrade", "sbatch"):
            (self.bin / name).write_text(RECORDER.replace('"CALLS"', f'"{name.upper()}_CALLS"'))
            (self.bin / name).chmod(0o755)
        self.calls = {name: root / f"{name}.jsonl" for name in ("lossgrade", "sbatch")}

    def run(self, args: list[str], cwd: Path, env: dict[str, str]) -> str:
        full = {**os.environ, **env, "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
                **{f"{name.upper()}_CALLS": str(path) for name, path in self.calls.items()}}
        done = subprocess.run(["bash", *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def recorded(self, name: str) -> list[dict[str, Any]]:
        path = self.calls[name]
        found = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        path.unlink(missing_ok=True)
        return found

    def replay(self, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
        calls = self.recorded("lossgrade")
        for call in calls:
            monkeypatch.chdir(call["cwd"])
            result = CliRunner().invoke(cli, call["argv"])
            assert result.exit_code == 0, (call, result.output)
        return [call["argv"] for call in calls]


# --------------------------------------------------------------------------------- Slurm
def test_the_slurm_array_job_grades_every_shard_and_merges_after_them(single, tmp_path, monkeypatch):
    script = RECIPES / "slurm-array.sh"
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "#SBATCH --cpus-per-task=" in text
    folder, one_run = single
    results = tmp_path / "results"
    results.mkdir()
    (results / "lossgrade-secret").write_text(SECRET + "\n")  # as the first task would have made it
    shell = Shell(tmp_path)
    env = {"CLASS": str(folder), "RESULTS": str(results), "SHARDS": "3"}
    # on the login node: the array, then the merge, held until every task has succeeded
    (tmp_path / "bin" / "sbatch").write_text(RECORDER.replace('"CALLS"', '"SBATCH_CALLS"') + 'print("4242;cluster")\n')
    out = shell.run([str(script)], tmp_path, env)
    array, merge = (call["argv"] for call in shell.recorded("sbatch"))
    assert "--parsable" in array and "--array=1-3" in array and array[-1] == str(script)
    assert "--dependency=afterok:4242" in merge and merge[-2:] == [str(script), "merge"]
    assert "Submitted 3 shards (job 4242)" in out and not shell.recorded("lossgrade")
    # each array task, as Slurm starts it
    for task in (1, 2, 3):
        shell.run([str(script)], tmp_path, {**env, "SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_COUNT": "3",
                                            "SLURM_CPUS_PER_TASK": "2"})
    graded = shell.replay(monkeypatch)
    assert [argv[argv.index("--shard") + 1] for argv in graded] == ["1/3", "2/3", "3/3"]
    shell.run([str(script), "merge"], tmp_path, env)
    assert shell.replay(monkeypatch)[0][0] == "merge"
    assert_same_results(results / "class", one_run)


# ---------------------------------------------------------------------------- Kubernetes
def test_the_kubernetes_indexed_job_grades_a_shard_per_index_and_the_merge_job_merges(single, tmp_path, monkeypatch):
    documents = list(yaml.safe_load_all((RECIPES / "k8s-indexed-job.yaml").read_text()))
    grade_job, merge_job = documents
    for job in documents:
        assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
        assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
    assert [job["metadata"]["labels"]["app.kubernetes.io/component"] for job in documents] == ["grade", "merge"]
    spec = grade_job["spec"]
    assert spec["completionMode"] == "Indexed"
    count = spec["completions"]
    assert isinstance(count, int) and count >= 1 and 1 <= spec["parallelism"] <= count
    assert "completionMode" not in merge_job["spec"]
    (grader,) = spec["template"]["spec"]["containers"]
    (merger,) = merge_job["spec"]["template"]["spec"]["containers"]
    for container in (grader, merger):
        assert container["command"][:2] == ["bash", "-c"]
        assert {"name": "SHARDS", "value": str(count)} in container["env"]  # one count everywhere
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert all(any(e["value"].startswith(m) for m in mounts) for e in container["env"] if e["name"] != "SHARDS")
    assert "JOB_COMPLETION_INDEX" in grader["command"][2]

    folder, one_run = single
    results = tmp_path / "results"
    results.mkdir()
    (results / "lossgrade-secret").write_text(SECRET + "\n")  # as the first pod would have made it
    shell = Shell(tmp_path)
    paths = {"CLASS": str(folder), "RESULTS": str(results)}  # where the volume would be mounted
    for index in range(count):  # each pod, with the variables Kubernetes and the manifest give it
        env = {e["name"]: e["value"] for e in grader["env"]} | paths | {"JOB_COMPLETION_INDEX": str(index)}
        shell.run(["-c", grader["command"][2]], tmp_path, env)
    graded = shell.replay(monkeypatch)
    assert [argv[argv.index("--shard") + 1] for argv in graded] == [f"{i}/{count}" for i in range(1, count + 1)]
    shell.run(["-c", merger["command"][2]], tmp_path, {e["name"]: e["value"] for e in merger["env"]} | paths)
    assert shell.replay(monkeypatch)[0][0] == "merge"
    assert_same_results(results / "class", one_run)


# -------------------------------------------------------------------------- GitHub Actions
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def expand(value: Any, context: dict[str, str]) -> Any:
    """Actions' `${{ ... }}`, for the contexts the recipe may use (any other fails the test)."""
    if isinstance(value, dict):
        return {key: expand(item, context) for key, item in value.items()}
    if isinstance(value, str):
        return EXPRESSION.sub(lambda match: context[match[1]], value)
    return value


def run_steps(job: dict[str, Any], shell: Shell, workspace: Path, env: dict[str, str],
              context: dict[str, str]) -> dict[str, Any]:
    """Run a job's `run:` steps that call lossgrade (as `bash -e`), skipping installation; return
    the artifact steps, expanded."""
    artifacts: dict[str, Any] = {}
    for step in job["steps"]:
        step = expand(step, context)
        if "run" in step and "lossgrade " in step["run"] and "pip install" not in step["run"]:
            shell.run(["-e", "-c", step["run"]], workspace, env | step.get("env", {}))
        for action in ("upload-artifact", "download-artifact"):
            if step.get("uses", "").startswith(f"actions/{action}@"):
                artifacts.setdefault(action, []).append(step["with"])
    return artifacts


def test_the_github_actions_matrix_grades_a_shard_per_job_and_the_merge_job_needs_them(single, tmp_path, monkeypatch):
    workflow = yaml.safe_load((RECIPES / "github-actions-matrix.yml").read_text())
    assert "workflow_dispatch" in workflow["on"]
    grade_job, merge_job = workflow["jobs"]["grade"], workflow["jobs"]["merge"]
    matrix = grade_job["strategy"]["matrix"]["shard"]
    assert matrix == list(range(1, len(matrix) + 1))
    assert grade_job["strategy"]["fail-fast"] is False  # one shard's failure does not cancel the others
    assert merge_job["needs"] in ("grade", ["grade"])

    folder, one_run = single
    shell = Shell(tmp_path)
    merged_workspace = tmp_path / "merge-runner"
    merged_workspace.mkdir()
    uploads = {}
    for shard in matrix:  # each matrix job on a runner of its own, with the class checked out
        workspace = tmp_path / f"runner-{shard}"
        shutil.copytree(folder, workspace / workflow["env"]["CLASS"])
        context = {"matrix.shard": str(shard), "strategy.job-total": str(len(matrix)), "secrets.LOSSGRADE_SECRET": SECRET}
        (workspace / "tmp").mkdir()
        env = dict(workflow["env"]) | {"RUNNER_TEMP": str(workspace / "tmp")}
        (upload,) = run_steps(grade_job, shell, workspace, env, context)["upload-artifact"]
        uploads[upload["name"]] = workspace / upload["path"]
    graded = shell.replay(monkeypatch)
    assert [argv[argv.index("--shard") + 1] for argv in graded] == [f"{s}/{len(matrix)}" for s in matrix]
    # download-artifact with a pattern: each matching artifact in a folder of its name under path
    downloads = expand(merge_job, {})["steps"]
    (download,) = [s["with"] for s in downloads if s.get("uses", "").startswith("actions/download-artifact@")]
    assert "name" not in download and download.get("merge-multiple", False) is False
    for name, path in uploads.items():
        assert fnmatch.fnmatchcase(name, download["pattern"])
        shutil.copytree(path, merged_workspace / download["path"] / name)
    artifacts = run_steps(merge_job, shell, merged_workspace, dict(workflow["env"]), {})
    (merged,) = shell.replay(monkeypatch)
    assert merged[0] == "merge"
    assert_same_results(merged_workspace / artifacts["upload-artifact"][0]["path"], one_run)
    assert not (merged_workspace / "results" / shards.MANIFEST).exists()

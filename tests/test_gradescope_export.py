"""The Gradescope autograder bundle: what it holds, and `run_autograder` grading a
submission laid out as Gradescope lays it out (pointed at temporary folders)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from click.testing import CliRunner
from lossgrade.cli import cli

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def test_export_writes_a_bundle_that_grades_a_submission_where_gradescope_puts_it(tmp_path: Path) -> None:
    bundle = tmp_path / "autograder.zip"
    result = CliRunner().invoke(cli, ["export", "gradescope", "--out", str(bundle)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote {bundle}: upload it as the autograder of a Gradescope programming assignment.\n"
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        archive.extractall(tmp_path / "autograder" / "source")
    assert {"setup.sh", "run_autograder", "requirements.txt", "lossgrade/batch/autograder.py",
            "lossgrade/checks/ex01_mse.py", "lossgrade/_course/solutions/ex01_mse.py",
            "lossgrade/_course/exercises/info.yaml", "lossgrade/templates/learner.html.j2"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert modes["run_autograder"] == modes["setup.sh"] == 0o100755
    setup = (tmp_path / "autograder" / "source" / "setup.sh").read_text()
    assert "chmod -R go-rwx /autograder/source/lossgrade/_course/solutions" in setup
    again = tmp_path / "again.zip"
    CliRunner().invoke(cli, ["export", "gradescope", "--out", str(again)])
    assert again.read_bytes() == bundle.read_bytes()  # the same course gives the same bundle

    root = tmp_path / "autograder"
    if os.geteuid() == 0:  # as setup.sh does: learner code (as nobody) must reach the sandbox's files
        for folder in [root / "source", *(root / "source").parents]:
            folder.chmod(folder.stat().st_mode | 0o001)
        (root / "source").chmod(0o755)
    (root / "submission").mkdir()
    (root / "submission" / "ex01_mse.py").write_text((SOLUTIONS / "ex01_mse.py").read_text())
    (root / "submission" / "quiz-answers.yaml").write_text("logits:\n  sigmoid-of-zero: 0.5\n")
    env = {**os.environ, "LOSSGRADE_SOURCE": str(root / "source"), "LOSSGRADE_SUBMISSION": str(root / "submission"),
           "LOSSGRADE_RESULTS": str(root / "results"), "LOSSGRADE_PYTHON": sys.executable}
    env.pop("LOSSGRADE_COURSE", None)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, cwd=root, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert f"(from {root / 'source' / 'lossgrade'})" in done.stdout  # the bundle's own copy ran
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 11  # ex01's 10 points and one quiz answer
    ex01 = [t for t in results["tests"] if "ex01" in t["tags"]]
    assert ex01 and all(t["status"] == "passed" for t in ex01)
    assert {"name", "number", "score", "max_score", "status", "output", "visibility"} <= set(ex01[0])
    missing = next(t for t in results["tests"] if t["tags"] == ["ex03"])
    assert (missing["score"], missing["status"], missing["output"]) == (0, "failed", "ex03_cross_entropy.py was not submitted")

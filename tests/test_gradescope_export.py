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
from lossgrade.cli.main import cli

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
    assert {"setup.sh", "run_autograder", "requirements.txt", "lossgrade/cli/autograder.py",
            "lossgrade/checks/ex01_mse.py", "lossgrade/_course/solutions/ex01_mse.py",
            "lossgrade/_course/exercises/info.yaml", "lossgrade/output/templates/learner.html.j2"} <= set(names)
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


def _correct_answers() -> str:
    """A quiz-answers.yaml that answers every question of the course right."""
    import yaml
    from lossgrade.quiz import library
    from lossgrade.quiz.model import answer_text

    return yaml.safe_dump({quiz.id: {q.id: answer_text(q, q.answer) for q in quiz.questions}
                           for quiz in library.quizzes().values()}, sort_keys=False)


def _open_to_nobody(*tops: Path) -> None:
    """As setup.sh does on Gradescope: as root, the sandbox runs learner code as `nobody`,
    who must reach the bundle and the virtualenv's Python."""
    if os.geteuid() != 0:
        return
    for top in tops:
        for folder in top.parents:
            folder.chmod(folder.stat().st_mode | 0o001)
        subprocess.run(["chmod", "-R", "o+rX", str(top)], check=True)


def test_the_bundle_grades_from_a_fresh_virtualenv_built_from_its_own_requirements(tmp_path: Path) -> None:
    """Gradescope's way: a fresh virtualenv with nothing but the bundle's requirements.txt
    (nothing of this environment: a missing dependency such as numpy fails here), then
    run_autograder on /autograder/submission-style folders. A correct submission gets full
    marks; a wrong one does not."""
    from lossgrade.cli.autograder import TESTED_TORCH
    from lossgrade.course.catalog import exercises
    from lossgrade.quiz import library

    bundle = tmp_path / "autograder.zip"
    assert CliRunner().invoke(cli, ["export", "gradescope", "--out", str(bundle)]).exit_code == 0
    source = tmp_path / "autograder" / "source"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
    requirements = (source / "requirements.txt").read_text()
    assert f"torch=={TESTED_TORCH}+cpu" in requirements and "numpy" in requirements
    setup = (source / "setup.sh").read_text()
    assert setup.index("apt-get update") < setup.index("apt-get install")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "LOSSGRADE_"))}
    env["PIP_RETRIES"] = "1"  # offline, an unreachable index fails in a second instead of after five retries
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-r", str(source / "requirements.txt")],
                               env=env, capture_output=True, text=True, timeout=600, check=False)
    assert installed.returncode == 0, installed.stderr[-3000:]
    _open_to_nobody(source, venv)

    def run_autograder(name: str, files: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], dict]:
        submission = tmp_path / name / "submission"
        submission.mkdir(parents=True)
        for file, text in files.items():
            (submission / file).write_text(text)
        _open_to_nobody(submission)
        run_env = {**env, "LOSSGRADE_SOURCE": str(source), "LOSSGRADE_SUBMISSION": str(submission),
                   "LOSSGRADE_RESULTS": str(tmp_path / name / "results"), "LOSSGRADE_PYTHON": str(venv / "bin" / "python")}
        done = subprocess.run(["bash", str(source / "run_autograder")], env=run_env, cwd=tmp_path / name,
                              capture_output=True, text=True, timeout=300, check=False)
        results = json.loads((tmp_path / name / "results" / "results.json").read_text(encoding="utf-8"))
        return done, results

    full = sum(e.points for e in exercises()) + sum(len(q.questions) for q in library.quizzes().values())
    correct = {e.file: (SOLUTIONS / e.file).read_text() for e in exercises()} | {"quiz-answers.yaml": _correct_answers()}
    done, results = run_autograder("correct", correct)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Numpy is not available" not in done.stdout + done.stderr
    assert results["score"] == full, [(t["name"], t.get("output", "")[:600]) for t in results["tests"] if t["status"] != "passed"]
    assert all(t["status"] == "passed" for t in results["tests"])

    wrong = {"ex01_mse (1).py": correct["ex01_mse.py"].replace("return squared.mean()", "return squared.sum()"),
             "README.md": "my notes"}  # as a browser names a re-upload, and a file that is not coursework
    done, results = run_autograder("wrong", wrong)
    assert done.returncode == 0, done.stderr[-3000:]
    assert 0 <= results["score"] < 10
    assert "Note: graded ex01_mse (1).py as ex01_mse.py (by its name)" in results["output"]
    assert "Not graded: README.md (not an exercise file or quiz answers)" in results["output"]
    ex01 = [t for t in results["tests"] if "ex01" in t["tags"]]
    assert any(t["status"] == "failed" and "Summed the squared errors" in t["output"] for t in ex01)


def test_an_unwritable_bundle_path_is_a_one_line_usage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = CliRunner().invoke(cli, ["export", "gradescope", "--out", str(tmp_path / "file" / "autograder.zip")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: cannot write {tmp_path / 'file' / 'autograder.zip'} (")
    assert result.stderr.count("\n") == 1

"""One grading core: every front-end adapts the same `Grader` and reads an exercise's files
through the same `Files`, so they give the same verdict on the same code; the built-in
course's checks and mistakes are found by path like an instructor's."""
from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import lossgrade
from lossgrade import api, course
from lossgrade.cli.main import cli
from lossgrade.core.errors import LossgradeError
from lossgrade.core.results import ExerciseResult, to_dict
from lossgrade.course import catalog
from lossgrade.grading import discover, records, service
from lossgrade.grading import submission as batch
from lossgrade.grading.files import Files
from lossgrade.grading.grader import Grader
from lossgrade.sandbox.client import Sandbox

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(lossgrade.__file__).parent
CORRECT = (REPO / "solutions" / "ex01_mse.py").read_text(encoding="utf-8")
SUM_NOT_MEAN = CORRECT.replace("return squared.mean()", "return squared.sum()")
MISSING_MODULE = "import numpy_helpers  # neither installed nor handed in\n" + CORRECT  # refused by the scan, as an import error
REACHES_FOR_GRADER = "import gc\n" + CORRECT  # refused by the scan
STATUS = {CORRECT: "passed", SUM_NOT_MEAN: "failed", MISSING_MODULE: "error", REACHES_FOR_GRADER: "failed"}


def verdict(result: ExerciseResult | dict[str, Any]) -> tuple[Any, ...]:
    """What a grade says (score, status, each check's outcome and the mistake it names), without timings."""
    data = result if isinstance(result, dict) else to_dict(result)
    return (data["score"], data["status"],
            [(c["id"], c["outcome"], (c.get("misconception") or {}).get("id")) for c in data["checks"]])


@pytest.mark.parametrize("source", list(STATUS), ids=["correct", "sum-not-mean", "missing-module", "reaches-for-grader"])
def test_the_cli_batch_notebook_and_pytest_front_ends_give_the_grader_s_verdict(source: str, sandbox: Sandbox,
                                                                                 tmp_path: Path) -> None:
    exercise = catalog.resolve("ex01")
    workspace = tmp_path / "work"
    assert CliRunner().invoke(cli, ["init", str(workspace)]).exit_code == 0
    (workspace / exercise.file).write_text(source, encoding="utf-8")
    direct = Grader(course.current(), sandbox).grade(exercise, Files.in_folder(workspace, exercise))

    checked = CliRunner().invoke(cli, ["check", "ex01", "--json", "-w", str(workspace)])  # the learner's CLI
    assert checked.exit_code in (0, 1), checked.output
    (from_cli,) = json.loads(checked.stdout)
    from_batch = batch.grade(sandbox, discover.read_one(workspace, "ada"), [exercise]).exercises[0]
    from_notebook = api.check("ex01", path=workspace / exercise.file).result

    report = tmp_path / "pytest.json"
    subprocess.run([sys.executable, "-m", "pytest", "-p", "lossgrade.pytest_plugin", "-p", "no:cacheprovider", "-q",
                    str(workspace), "--lossgrade-json", str(report), "--lossgrade-exercise", "ex01"],
                   cwd=tmp_path, capture_output=True, timeout=300, check=False)
    (from_pytest,) = json.loads(report.read_text(encoding="utf-8"))["exercises"]

    assert verdict(from_cli) == verdict(direct)
    assert verdict(from_batch) == verdict(direct)
    assert verdict(from_notebook) == verdict(direct)
    assert verdict(from_pytest) == verdict(direct)
    assert verdict(direct)[1] == STATUS[source]


def test_the_files_of_an_exercise_are_read_one_way_wherever_they_come_from(tmp_path: Path) -> None:
    """A folder, a submission's bytes and a path a notebook names give the same files: the
    exercise's own and those it may import, undecodable bytes kept visible, nothing else."""
    ex05 = next(e for e in catalog.exercises() if e.allowed_imports)
    imported = f"{ex05.allowed_imports[0]}.py"
    folder = tmp_path / "learner"
    folder.mkdir()
    (folder / ex05.file).write_bytes(b"x = 1  # caf\xe9\n")
    (folder / imported).write_text("y = 2\n", encoding="utf-8")
    (folder / "notes.py").write_text("z = 3\n", encoding="utf-8")

    in_folder = Files.in_folder(folder, ex05)
    from_bytes = Files.from_bytes(ex05, {p.name: p.read_bytes() for p in folder.iterdir()}, "a submission")
    at_path = Files.at(folder / ex05.file, ex05)
    submitted = batch.sources(discover.read_one(folder, "ada"), ex05)
    expected = {ex05.file: "x = 1  # caf\ufffd\n", imported: "y = 2\n"}
    for files in (in_folder, from_bytes, at_path, submitted):
        assert files is not None and dict(files) == expected and list(files) == [ex05.file, imported]
    assert in_folder is not None and in_folder.origin == str(folder)
    (folder / ex05.file).unlink()
    assert Files.in_folder(folder, ex05) is None
    assert Files.from_bytes(ex05, {imported: b"y = 2\n"}, "a submission") is None  # an import alone is not submitted


def test_the_grader_grades_with_the_course_it_is_given(tmp_path: Path, sandbox: Sandbox,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A course exercise, graded by a Grader of that course while the built-in course is in
    force (nothing travels through the environment)."""
    monkeypatch.delenv(course.ENV, raising=False)
    folder = tmp_path / "course"
    assert CliRunner().invoke(cli, ["course", "new", str(folder)]).exit_code == 0
    layered = course.Course.load(folder)
    ex90 = layered.exercise("ex90")
    assert ex90 not in course.current().exercises
    with service.open_sandbox(within=layered) as box:
        result = Grader(layered, box).grade(ex90, Files.in_folder(folder / "solutions", ex90))
    assert verdict(result)[1] == "passed", result
    assert course.current() == course.Course.load()  # put back


def test_the_built_in_course_s_checks_and_mistakes_are_found_by_path(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(course.ENV, raising=False)
    builtin = course.Course.load()
    for exercise in builtin.exercises:
        path = PACKAGE / "checks" / exercise.file
        assert builtin.checks_file(exercise) == path and builtin.has_checks(exercise)
        module = importlib.import_module(f"lossgrade.checks.{exercise.module}")  # one module, not a copy by path
        assert builtin.checks(exercise) is module.checks
        mistakes = PACKAGE / "misconceptions" / exercise.file
        assert builtin.mistake_files(exercise.module) == ((mistakes,) if mistakes.is_file() else ())

    # An instructor's folder that replaces every exercise: the checks below it serve until it brings its own.
    copy = tmp_path / "copy"
    shutil.copytree(course.course_root() / "exercises", copy / "exercises")
    layered = course.Course.load(copy)
    ex01 = layered.exercise("ex01")
    assert ex01.root == copy.resolve() and layered.checks_file(ex01) == PACKAGE / "checks" / "ex01_mse.py"
    (copy / "checks").mkdir()
    shutil.copy(PACKAGE / "checks" / "ex01_mse.py", copy / "checks" / "ex01_mse.py")
    assert layered.checks_file(ex01) == copy.resolve() / "checks" / "ex01_mse.py"
    own = layered.checks(ex01)
    assert own.module == "ex01_mse" and own is not builtin.checks(builtin.exercise("ex01"))


def test_a_built_in_exercise_without_a_checks_file_is_not_gradable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in course answers "has it checks" by its folder, as an instructor's does."""
    monkeypatch.delenv(course.ENV, raising=False)
    builtin = course.Course.load()
    ex01 = builtin.exercise("ex01")
    monkeypatch.setattr(course, "folder", lambda root, part: Path("/nonexistent") / part)
    assert builtin.checks_file(ex01) is None and not builtin.has_checks(ex01)
    assert ex01 not in Grader(builtin).gradable()
    with pytest.raises(LossgradeError, match="ex01 has no checks: write them in"):
        builtin.checks(ex01)


def test_every_part_of_the_grader_s_fingerprint_exists() -> None:
    """A file that moves must not drop out of the digest that decides when a class is regraded."""
    for part in records.GRADER_PARTS:
        assert (PACKAGE / part).exists(), part

"""`lossgrade grade` through its real entry point: a small class with the usual mix (correct,
mistaken, broken, corrupt, duplicated, empty), graded on ex01 to keep it quick; the outputs,
the summary, resuming, --force and determinism across --jobs."""
from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from lossgrade.grading import runner
from lossgrade.checks import secret
from lossgrade.cli.main import cli
from lossgrade.quiz import library

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
CORRECT = (SOLUTIONS / "ex01_mse.py").read_text(encoding="utf-8")
SUM_NOT_MEAN = CORRECT.replace("return squared.mean()", "return squared.sum()")
QUIZ_POINTS = sum(len(q.questions) for q in library.quizzes().values())


def make_class(root: Path) -> Path:
    folder = root / "class"
    (folder / "ada").mkdir(parents=True)
    (folder / "ada" / "ex01_mse.py").write_text(CORRECT)
    (folder / "ada" / "quiz-answers.yaml").write_text("logits:\n  classifier-returns-logits: b\n  sigmoid-of-zero: 0.5\n")
    (folder / "ben" / "exercises").mkdir(parents=True)
    (folder / "ben" / "exercises" / "ex01_mse.py").write_text(SUM_NOT_MEAN)
    with zipfile.ZipFile(folder / "cleo.zip", "w") as archive:
        archive.writestr("cleo/ex01_mse.py", "def mse_loss(input, target:\n    pass\n")
    (folder / "dan.zip").write_bytes(b"not a zip at all")
    (folder / "eve").mkdir()
    with zipfile.ZipFile(folder / "eve.zip", "w") as archive:
        archive.writestr("ex01_mse.py", CORRECT)
    (folder / "fay").mkdir()
    (folder / "notes.txt").write_text("to do: grade")
    return folder


def grade(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["grade", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def snapshot(out: Path) -> dict[str, bytes]:
    names = ["gradebook.csv", "gradebook.json", "gradescope/ada/results.json", "gradescope/ben/results.json",
             "learners/ada.html", "learners/ben.html"]
    return {name: (out / name).read_bytes() for name in names}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, dict[str, bytes]]:
    root = tmp_path_factory.mktemp("batch")
    folder, out = make_class(root), root / "results"
    code, output = grade(str(folder), "--out", str(out), "-e", "ex01", "--jobs", "2", "--junit")
    assert code == 1, output  # dan and eve could not be graded
    return folder, out, output, snapshot(out)


def test_the_summary_names_every_problem_on_a_line_of_its_own(graded):
    _, out, output, _ = graded
    lines = output.splitlines()
    assert lines[:3] == [
        "ignored 1 entries that are neither a folder nor a .zip: notes.txt",
        "dan.zip: not graded: dan.zip is not a readable zip file (File is not a zip file); ask for it again",
        "eve/ and eve.zip: not graded: eve/ and eve.zip both claim the learner id 'eve': keep one and grade again",
    ]
    assert lines[3].startswith("4 graded, 2 rejected (dan, eve: why above) in ")
    graded_mean = 100 * ((12 + 2.86) / (10 + QUIZ_POINTS)) / 4  # over the 4 graded: ada, ben, cleo, fay
    assert lines[3].endswith(f"(6 graded now, 0 unchanged): class mean {graded_mean:.0f}% of {10 + QUIZ_POINTS} points, "
                             f"1 passed every exercise. Wrote gradebook.csv, gradebook.json, gradescope/, junit.xml, "
                             f"report.html in {out}/.")
    assert len(lines) == 4


def test_the_csv_has_a_row_per_learner_and_a_column_per_exercise_and_quiz(graded):
    _, out, _, _ = graded
    rows = list(csv.reader((out / "gradebook.csv").read_text(encoding="utf-8").splitlines()))
    quizzes = [f"quiz:{q}" for q in library.quizzes()]
    assert rows[0] == ["learner", "ex01", *quizzes, "total", "max_total", "status", "violations"]
    table = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert list(table) == ["ada", "ben", "cleo", "dan", "eve", "fay"]
    assert (table["ada"]["ex01"], table["ada"]["quiz:logits"], table["ada"]["total"]) == ("10", "2", "12")
    assert table["ada"]["max_total"] == f"{10 + QUIZ_POINTS:g}"
    # ben fails 5 of ex01's 7 checks; with a GPU the 3 device checks count again on cuda, failed there too
    expected = "2.86" if runner.devices() == ("cpu",) else "2"
    assert (table["ben"]["ex01"], table["ben"]["status"]) == (expected, "ok")
    assert table["cleo"]["ex01"] == "0" and table["fay"]["total"] == "0"
    assert table["dan"]["status"].startswith("error: not graded: dan.zip is not a readable zip file")
    assert table["eve"]["status"].startswith("error: not graded: eve/ and eve.zip both claim")


def test_the_json_has_a_record_per_learner_and_exercise(graded):
    _, out, _, _ = graded
    data = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    records = {r["learner"]: r for r in data["records"]}
    assert set(records["ada"]) == {"learner", "exercise", "title", "score", "max_score", "status", "error", "checks",
                                   "misconceptions"}
    statuses = {learner: r["status"] for learner, r in records.items()}
    assert statuses == {"ada": "passed", "ben": "failed", "cleo": "error", "dan": "error", "eve": "error",
                        "fay": "not submitted"}
    assert [m["id"] for m in records["ben"]["misconceptions"]] == ["ex01.sum-not-mean"]
    failed = [c for c in records["ben"]["checks"] if c["outcome"] == "failed"]
    assert failed and failed[0]["feedback"]["message"].startswith("The result is wrong")
    assert "could not be imported: SyntaxError" in records["cleo"]["error"]
    assert "duration" not in records["ada"]["checks"][0]  # timings would make runs differ
    quiz = next(q for q in data["quiz_records"] if q["learner"] == "ada" and q["quiz"] == "logits")
    assert (quiz["score"], quiz["status"]) == (2.0, "failed")


def test_gradescope_junit_and_html_outputs(graded):
    _, out, _, _ = graded
    ada = json.loads((out / "gradescope" / "ada" / "results.json").read_text(encoding="utf-8"))
    assert ada["score"] == 12
    checks = [t for t in ada["tests"] if "ex01" in t["tags"]]
    assert checks and all(t["status"] == "passed" and t["score"] == t["max_score"] for t in checks)
    assert round(sum(t["max_score"] for t in checks), 2) == 10
    for learner in ("ada", "ben", "cleo", "dan", "eve", "fay"):  # Gradescope's results.json specification
        data = json.loads((out / "gradescope" / learner / "results.json").read_text(encoding="utf-8"))
        assert isinstance(data["score"], (int, float)) and isinstance(data["output"], str)
        assert data["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        for test in data["tests"]:
            assert isinstance(test["name"], str) and test["status"] in ("passed", "failed")
            assert 0 <= test["score"] <= test["max_score"] and isinstance(test["output"], str)
            assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    ben = json.loads((out / "gradescope" / "ben" / "results.json").read_text(encoding="utf-8"))
    assert any("Known misconception: Summed the squared errors" in t["output"] for t in ben["tests"])
    suites = ElementTree.parse(out / "junit.xml").getroot()
    assert [s.get("name") for s in suites] == ["ada", "ben", "cleo", "dan", "eve", "fay"]
    assert int(suites.get("failures")) > 0
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "ada" in report and len(list((out / "learners").glob("*.html"))) == 6


def test_a_rerun_grades_only_what_changed_and_any_jobs_give_the_same_files(graded, tmp_path):
    folder, out, _, first = graded
    work = tmp_path / "class"
    shutil.copytree(folder, work)
    shutil.copytree(out, tmp_path / "results")
    results = tmp_path / "results"
    code, output = grade(str(work), "--out", str(results), "-e", "ex01", "--jobs", "2")
    assert code == 1 and "(0 graded now, 6 unchanged)" in output
    assert snapshot(results) == first
    code, output = grade(str(work), "--out", str(results), "-e", "ex01", "--jobs", "1", "--force")
    assert code == 1 and "(6 graded now, 0 unchanged)" in output
    assert snapshot(results) == first  # the same grades, byte for byte, at --jobs 1 and 2
    (work / "ben" / "exercises" / "ex01_mse.py").write_text(CORRECT)
    code, output = grade(str(work), "--out", str(results), "-e", "ex01")
    assert code == 1 and "(1 graded now, 5 unchanged)" in output
    assert "\nben,10," in (results / "gradebook.csv").read_text(encoding="utf-8")


def test_each_learners_own_files_are_written_as_the_learner_is_graded(graded, tmp_path, monkeypatch):
    """A learner's Gradescope file and report are written as soon as the learner is graded,
    while the other graders go on (the same bytes as written at the end: the rerun test
    above compares them); the end writes the rest."""
    from lossgrade.output import exports

    folder, out, _, first = graded
    seen: dict[str, set[str]] = {}
    write_all = exports.write_all

    def spied(results, batch, with_junit=False, now=None, written=()):
        seen["written"] = set(written)
        seen["there"] = {p.parent.name for p in (results / "gradescope").glob("*/results.json")}
        return write_all(results, batch, with_junit, now=now, written=written)

    monkeypatch.setattr(exports, "write_all", spied)
    (tmp_path / "results").mkdir()  # the same grading secret, so the same inputs
    shutil.copy(out / secret.SECRET_FILE, tmp_path / "results" / secret.SECRET_FILE)
    code, output = grade(str(folder), "--out", str(tmp_path / "results"), "-e", "ex01", "--jobs", "2")
    assert code == 1 and "(6 graded now, 0 unchanged)" in output
    assert {"ada", "ben"} <= seen["written"] <= seen["there"]  # graded by the pool: written before the end
    assert snapshot(tmp_path / "results") == first


def test_spawned_graders_give_the_same_files(graded, tmp_path, monkeypatch):
    """Where the checks run on cuda the graders are spawned rather than forked (CUDA does not
    survive a fork): they grade the same, byte for byte."""
    from lossgrade.grading import pool

    folder, out, _, first = graded
    monkeypatch.setattr(pool, "start_method", lambda: "spawn")
    (tmp_path / "results").mkdir()  # the same grading secret, so the same inputs
    shutil.copy(out / secret.SECRET_FILE, tmp_path / "results" / secret.SECRET_FILE)
    code, output = grade(str(folder), "--out", str(tmp_path / "results"), "-e", "ex01", "--jobs", "2")
    assert code == 1 and "(6 graded now, 0 unchanged)" in output
    assert snapshot(tmp_path / "results") == first


def test_a_missing_folder_is_a_one_line_usage_error(tmp_path):
    code, _ = grade(str(tmp_path / "nowhere"))
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "nowhere")])
    assert code == 2
    assert result.stderr == f"Error: {tmp_path / 'nowhere'} does not exist: give the folder holding one folder or .zip per learner\n"


def test_an_empty_or_wrong_class_folder_is_a_one_line_usage_error_and_writes_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("to do")
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "empty"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (f"Error: no submissions in {tmp_path / 'empty'}: expected a folder or .zip per learner "
                             "(it holds only notes.txt)\n")
    (tmp_path / "ada" / "exercises").mkdir(parents=True)  # one learner's folder, given by mistake
    (tmp_path / "ada" / "exercises" / "ex01_mse.py").write_text(CORRECT)
    (tmp_path / "ada" / "quiz-answers.yaml").write_text("logits: {}\n")
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "ada"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {tmp_path / 'ada'} holds exercise files itself, as one learner's folder does: "
                             "give the folder above it, holding one folder or .zip per learner\n")
    assert not (tmp_path / "out").exists()


def test_a_sandbox_that_cannot_start_is_one_line_exit_2_and_nothing_written(tmp_path, monkeypatch):
    from lossgrade.grading import service
    from lossgrade.grading import pool

    if "cuda" in runner.devices():
        pytest.skip("the graders must be forked to inherit the patch below")
    monkeypatch.setattr(pool, "start_method", lambda: "fork")

    def cannot_start(*args, **kwargs):
        raise OSError("cannot execute the worker's Python: Permission denied")

    monkeypatch.setattr(service, "open_sandbox", cannot_start)
    folder = make_class(tmp_path)
    result = CliRunner().invoke(cli, ["grade", str(folder), "--out", str(tmp_path / "out"), "-e", "ex01", "--jobs", "2"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == ("Error: nothing graded: the sandbox could not start: cannot execute the worker's Python: "
                             "Permission denied; nothing was written\n")
    assert not (tmp_path / "out").exists()


def test_a_grader_failure_is_reported_the_rest_is_graded_and_the_exit_code_is_1(tmp_path, monkeypatch):
    from lossgrade.grading import pool, submission

    if "cuda" in runner.devices():  # where this session's backward passes started autograd's device threads
        pytest.skip("the graders must be forked to inherit the patch below, and with a GPU a process forked "
                    "from this test session can run no backward")
    monkeypatch.setattr(pool, "start_method", lambda: "fork")

    folder = tmp_path / "class"
    for learner in ("ada", "ben"):
        (folder / learner).mkdir(parents=True)
        (folder / learner / "ex01_mse.py").write_text(CORRECT)
    real = submission.grade

    def broken_for_ben(sandbox, sub, exercises):
        if sub.learner == "ben":
            raise RuntimeError("a bug in lossgrade")
        return real(sandbox, sub, exercises)

    monkeypatch.setattr(submission, "grade", broken_for_ben)
    code, output = grade(str(folder), "--out", str(tmp_path / "out"), "-e", "ex01", "--jobs", "1")
    assert code == 1
    assert output.splitlines()[0] == ("grader failure: ben: the grader failed on this submission "
                                      "(RuntimeError: a bug in lossgrade)")
    assert "\nada,10," in (tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8")
    assert not (tmp_path / "out" / "records" / "ben.json").exists()  # the next run tries ben again


def copying(classmate: Path, results: Path) -> str:
    """An ex01 that reads a classmate's file (and gives right answers, if it can read it), then
    plants a file among the results (to be graded, or to overwrite a record)."""
    return f'''import torch


def mse_loss(input, target, reduction="mean"):
    try:
        open({str(classmate)!r}).read()
        if input.shape != target.shape or reduction not in ("mean", "sum", "none"):
            raise ValueError(f"shapes {{tuple(input.shape)}} and {{tuple(target.shape)}}, reduction {{reduction}}")
        squared = (input - target) ** 2
        return squared.mean() if reduction == "mean" else squared.sum() if reduction == "sum" else squared
    except OSError:
        return torch.zeros(())
    finally:
        try:
            open({str(results / "planted.txt")!r}, "w").write("planted")
        except OSError:
            pass
'''


@pytest.mark.parametrize("strong", [False, True], ids=["default", "strong"])
def test_learner_code_reaches_neither_the_class_nor_the_results(tmp_path, strong):
    from lossgrade.sandbox import strong as strong_mode

    usable, why = strong_mode.available()
    if strong and not usable:
        pytest.skip(why)
    folder, out = tmp_path / "class", tmp_path / "results"
    (folder / "ada").mkdir(parents=True)
    (folder / "ada" / "ex01_mse.py").write_text(CORRECT)
    (folder / "mal").mkdir()
    (folder / "mal" / "ex01_mse.py").write_text(copying(folder / "ada" / "ex01_mse.py", out))
    code, output = grade(str(folder), "--out", str(out), "-e", "ex01", "--jobs", "1", *(["--strong"] if strong else []))
    assert code == 0, output
    records = {r["learner"]: r for r in json.loads((out / "gradebook.json").read_text())["records"]
               if r["exercise"] == "ex01"}
    assert records["ada"]["score"] == records["ada"]["max_score"] > 0
    assert records["mal"]["score"] == 0
    assert not (out / "planted.txt").exists()
    if not strong:  # the guards name the attempt; in the strong mode the class is simply not there
        feedback = json.dumps(records["mal"]["checks"])
        assert "ada/ex01_mse.py" in feedback and "other learners' work" in feedback
        # ... and so do the gradebook (a column), the CSV and the class report
        learners = {r["learner"]: r for r in json.loads((out / "gradebook.json").read_text())["learners"]}
        assert learners["ada"]["violations"] == []
        assert learners["mal"]["violations"] == [f"ex01: open {folder / 'ada' / 'ex01_mse.py'}"]
        rows = {row["learner"]: row for row in csv.DictReader((out / "gradebook.csv").read_text().splitlines())}
        assert rows["mal"]["violations"] == f"ex01: open {folder / 'ada' / 'ex01_mse.py'}" and rows["ada"]["violations"] == ""
        report = (out / "report.html").read_text()
        assert "Needs a look" in report and f"ex01: open {folder / 'ada' / 'ex01_mse.py'}" in report


def test_strong_grading_where_bubblewrap_cannot_run_is_a_one_line_error(tmp_path, monkeypatch):
    from lossgrade.sandbox import strong as strong_mode

    monkeypatch.setattr(strong_mode, "available", lambda: (False, "bwrap: no user namespaces"))
    (tmp_path / "class" / "ada").mkdir(parents=True)
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "class"), "--out", str(tmp_path / "results"), "--strong"])
    assert result.exit_code == 2
    assert result.stderr == "Error: --strong cannot run here: bwrap: no user namespaces\n"


def test_a_partial_regrade_keeps_the_rest_and_a_later_full_run_regrades_nothing_more(tmp_path):
    folder, out = tmp_path / "class", tmp_path / "results"
    for learner in ("ada", "ben"):
        (folder / learner).mkdir(parents=True)
        (folder / learner / "ex01_mse.py").write_text(CORRECT)
        (folder / learner / "ex02_l1_huber.py").write_text((SOLUTIONS / "ex02_l1_huber.py").read_text())
    code, output = grade(str(folder), "--out", str(out), "-e", "ex01", "-e", "ex02")
    assert code == 0 and "(2 graded now, 0 unchanged)" in output, output
    (folder / "ben" / "ex01_mse.py").write_text(SUM_NOT_MEAN)
    code, output = grade(str(folder), "--out", str(out), "-e", "ex01")
    assert code == 0 and "(1 graded now, 1 unchanged)" in output, output
    rows = {row["learner"]: row for row in csv.DictReader((out / "gradebook.csv").read_text().splitlines())}
    assert list(rows["ben"])[:3] == ["learner", "ex01", "ex02"]  # ex02 kept, not dropped
    assert rows["ben"]["ex02"] == rows["ada"]["ex02"] == "10" and rows["ben"]["ex01"] != "10"
    assert rows["ben"]["max_total"] == rows["ada"]["max_total"] == f"{20 + QUIZ_POINTS:g}"
    code, output = grade(str(folder), "--out", str(out), "-e", "ex01", "-e", "ex02")
    assert code == 0 and "(0 graded now, 2 unchanged)" in output, output  # nothing changed since
    (folder / "ada" / "ex02_l1_huber.py").write_text("def l1_loss(:\n")
    code, output = grade(str(folder), "--out", str(out), "-e", "ex01")  # ex02 changed, but not asked for
    assert code == 0 and "(0 graded now, 2 unchanged)" in output, output
    assert output.splitlines()[0] == ("ada/: ex02 keeps its earlier result, graded before its file or the grader "
                                      "changed: grade without -e to regrade it")
    code, output = grade(str(folder), "--out", str(out), "-e", "ex01", "-e", "ex02")
    assert code == 0 and "(1 graded now, 1 unchanged)" in output and "keeps its earlier result" not in output, output
    data = json.loads((out / "gradebook.json").read_text())
    ada = {r["exercise"]: r for r in data["records"] if r["learner"] == "ada"}
    assert ada["ex01"]["score"] == 10 and ada["ex02"]["status"] == "error"

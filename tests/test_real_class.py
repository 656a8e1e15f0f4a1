"""A class as real courses receive it, graded through `lossgrade grade`: misnamed files, a
notebook, Canvas and Moodle bulk-download names, a zip wrapped in a folder, a corrupt zip,
two different files for one exercise, a terminal quiz handed in with `lossgrade submit`.
Every file in the class folder is either graded or reported, with the reason: in the
summary, in gradebook.json and in the class report."""
from __future__ import annotations

import csv
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lossgrade.course import catalog
from lossgrade.cli.main import cli
from lossgrade.quiz import library
from test_batch_discover import notebook
from test_quiz_terminal import Terminal, answer

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
CORRECT = (SOLUTIONS / "ex01_mse.py").read_text()
SUM_NOT_MEAN = CORRECT.replace("return squared.mean()", "return squared.sum()")


def build(root: Path) -> Path:
    folder = root / "class"
    folder.mkdir()
    # Canvas: loose files named name_userid_attachmentid_file, a case-varied name
    (folder / "lima_ana_1234_5678_Ex01_MSE.py").write_text(CORRECT)
    (folder / "lima_ana_1234_5679_notes.txt").write_text("I did my best")
    # a browser's re-upload name, and a file that is not coursework
    (folder / "ben").mkdir()
    (folder / "ben" / "ex01_mse (1).py").write_text(SUM_NOT_MEAN)
    (folder / "ben" / "screenshot.png").write_bytes(b"\x89PNG")
    # a notebook, named like nothing: graded by the functions its cells define
    (folder / "cy").mkdir()
    (folder / "cy" / "Untitled.ipynb").write_bytes(notebook("import torch\n", CORRECT, "mse_loss(torch.ones(2), torch.zeros(2))\n"))
    # two different files for ex01: reported as ambiguous, never guessed
    (folder / "dee").mkdir()
    (folder / "dee" / "ex01_mse.py").write_text(CORRECT)
    (folder / "dee" / "ex01_mse-1.py").write_text(SUM_NOT_MEAN)
    # a corrupt zip
    (folder / "eve.zip").write_bytes(b"PK\x03\x04 not a zip")
    # a zip with a wrapper folder and a bare ex01.py
    with zipfile.ZipFile(folder / "fay.zip", "w") as archive:
        archive.writestr("fay/exercises/ex01.py", CORRECT)
        archive.writestr("fay/.ipynb_checkpoints/ex01-checkpoint.py", "old")
    # Moodle, downloaded in folders
    (folder / "Gus Ho_4242_assignsubmission_file_").mkdir()
    (folder / "Gus Ho_4242_assignsubmission_file_" / "ex01_mse.py").write_text(CORRECT)
    # something at the top that is no submission
    (folder / "grading-notes.md").write_text("to do")
    return folder


def handed_in(root: Path, folder: Path, env: dict[str, str]) -> None:
    """hal takes the logits quiz in a terminal and hands everything in with `lossgrade submit`."""
    workspace = root / "hal-work"
    assert CliRunner().invoke(cli, ["init", str(workspace)]).exit_code == 0
    shutil.copy(SOLUTIONS / "ex01_mse.py", workspace / "ex01_mse.py")
    logits = library.get("logits")
    terminal = Terminal(["logits", "--workspace", str(workspace), "--seed", "1"], env)
    answer(terminal, logits, range(1, len(logits.questions) + 1), seed=1)
    assert terminal.exit_code() == 0
    result = CliRunner().invoke(cli, ["submit", "-w", str(workspace), "--id", "hal", "--out", str(folder / "hal.zip")])
    assert result.exit_code == 0 and "quiz-answers.yaml with logits" in result.stdout


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int, str]:
    root = tmp_path_factory.mktemp("real")
    folder = build(root)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "LOSSGRADE_COURSE", "LOSSGRADE_WORKSPACE")}
    handed_in(root, folder, {**env, "TERM": "xterm", "COLUMNS": "100"})
    out = root / "results"
    result = CliRunner().invoke(cli, ["grade", str(folder), "--out", str(out), "-e", "ex01", "--jobs", "2"])
    return folder, out, result.exit_code, result.stdout


def test_the_summary_reports_every_problem_and_tells_the_truth(graded) -> None:
    _, _, code, output = graded
    assert code == 1  # eve's zip could not be graded
    lines = output.splitlines()
    assert "a Canvas and Moodle bulk download: each learner's files gathered by name and id" in lines
    assert "ignored 1 entries that are neither a folder nor a .zip: grading-notes.md" in lines
    assert "eve.zip: not graded: eve.zip is not a readable zip file (File is not a zip file); ask for it again" in lines
    assert "ben/: graded ex01_mse (1).py as ex01_mse.py (by its name)" in lines
    assert ("not graded, not an exercise file or quiz answers: 2 files: screenshot.png, notes.txt "
            "(gradebook.json lists them by learner)") in lines
    assert "cy/: graded Untitled.ipynb as ex01_mse.py (by its functions)" in lines
    assert any(line.startswith("dee/: ambiguous: 'ex01_mse.py' and 'ex01_mse-1.py' both fit ex01_mse.py") for line in lines)
    assert "fay.zip: graded exercises/ex01.py as ex01_mse.py (by its name)" in lines
    assert ("lima_ana_1234_5678_Ex01_MSE.py and lima_ana_1234_5679_notes.txt: graded Ex01_MSE.py as ex01_mse.py "
            "(by its name)") in lines
    assert lines[-1].startswith("7 graded, 1 rejected (eve: why above), 4 files not graded (listed above) in ")


def test_every_file_is_graded_or_reported_in_the_gradebook(graded) -> None:
    folder, out, _, _ = graded
    data = json.loads((out / "gradebook.json").read_text())
    assert data["not_submissions"] == ["grading-notes.md"]
    learners = {entry["learner"]: entry for entry in data["learners"]}
    assert sorted(learners) == ["Gus Ho", "ben", "cy", "dee", "eve", "fay", "hal", "lima_ana"]
    ex01 = {r["learner"]: r for r in data["records"] if r["exercise"] == "ex01"}
    scores = {learner: record["score"] for learner, record in ex01.items()}
    assert scores == {"Gus Ho": 10, "ben": pytest.approx(2.857, abs=0.01), "cy": 10, "dee": 0, "eve": 0, "fay": 10,
                      "hal": 10, "lima_ana": 10}
    assert ex01["dee"]["status"] == "error" and "ambiguous" in ex01["dee"]["error"]
    assert learners["ben"]["files"] == {"graded_from": {"ex01_mse.py": "ex01_mse (1).py"},
                                        "not_graded": {"screenshot.png": "not an exercise file or quiz answers"}}
    assert learners["lima_ana"]["files"]["not_graded"] == {"notes.txt": "not an exercise file or quiz answers"}
    assert learners["fay"]["files"]["not_graded"] == {  # in gradebook.json, not on the summary's lines
        "1 hidden or system files (.ipynb_checkpoints/)": "hidden or system files (version control, editor and OS "
                                                          "metadata): not coursework"}
    assert set(learners["dee"]["files"]["not_graded"]) == {"ex01_mse.py", "ex01_mse-1.py"}
    assert learners["eve"]["status"].startswith("error: not graded: eve.zip is not a readable zip file")
    # every file of the class folder: graded (under its name or another), reported in the
    # learner's record, a rejected zip, or an entry the summary lists as ignored
    accounted = {"grading-notes.md", "eve.zip", "hal.zip", "fay.zip"}  # hal's and fay's members: checked above
    for entry in learners.values():
        accounted |= set(entry["files"]["not_graded"]) | set(entry["files"]["graded_from"].values())
    for path in folder.rglob("*"):
        if path.is_file():
            relative = path.relative_to(folder)
            name = relative.parts[-1] if len(relative.parts) > 1 else relative.name
            canvas = name.split("_", 4)[-1] if name.startswith("lima_ana_") else name
            graded_by_name = name in ("ex01_mse.py",) and "dee" not in relative.parts
            assert graded_by_name or canvas in accounted or name in accounted, f"{relative} neither graded nor reported"
    with zipfile.ZipFile(folder / "hal.zip") as archive:  # every member an exercise file or the answers
        assert {e["exercise"] for e in data["records"] if e["learner"] == "hal"} == {"ex01"}
        assert all(name == "quiz-answers.yaml" or name in {e.file for e in catalog.exercises()} for name in archive.namelist())
    rows = {row["learner"]: row for row in csv.DictReader((out / "gradebook.csv").read_text().splitlines())}
    assert rows["hal"]["quiz:logits"] == str(len(library.get("logits").questions))  # the terminal quiz, graded
    assert rows["ben"]["status"].startswith("warning: graded ex01_mse (1).py as ex01_mse.py")


def test_the_class_report_lists_what_needs_a_look(graded) -> None:
    _, out, _, _ = graded
    report = (out / "report.html").read_text()
    section = report[report.index('id="attention"'):report.index('id="distribution"')]
    for text in ("grading-notes.md: neither a folder nor a .zip", "eve.zip is not a readable zip file", "screenshot.png: not an exercise file or quiz answers",
                 "ambiguous", "graded Untitled.ipynb as ex01_mse.py (by its functions)", "notes.txt"):
        assert text in section, text


def test_each_learner_reads_how_their_files_were_read(graded) -> None:
    _, out, _, _ = graded
    ben = (out / "learners" / "ben.html").read_text()
    assert "Your files" in ben and "graded ex01_mse (1).py as ex01_mse.py (by its name)" in ben
    assert "Not graded: screenshot.png: not an exercise file or quiz answers" in ben
    assert "Your files" not in (out / "learners" / "hal.html").read_text()  # nothing to say

"""`lossgrade submit`: a learner's exercise files and terminal quiz answers, in one zip that
`lossgrade grade` reads; the quiz taken in a real terminal reaches the gradebook."""
from __future__ import annotations

import csv
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lossgrade.cli.main import cli
from lossgrade.quiz import library
from test_quiz_terminal import Terminal, answer

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
EXERCISES = Path(__file__).resolve().parents[1] / "exercises"


@pytest.fixture
def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "LOSSGRADE_COURSE", "LOSSGRADE_WORKSPACE")}
    return {**clean, "TERM": "xterm", "COLUMNS": "100"}


def test_a_terminal_quiz_submitted_reaches_the_gradebook(tmp_path: Path, env: dict[str, str]) -> None:
    workspace = tmp_path / "ada"
    result = CliRunner().invoke(cli, ["init", str(workspace)])
    assert result.exit_code == 0, result.output
    shutil.copy(SOLUTIONS / "ex01_mse.py", workspace / "ex01_mse.py")
    logits = library.get("logits")
    terminal = Terminal(["logits", "--workspace", str(workspace), "--seed", "5"], env)
    answer(terminal, logits, range(1, len(logits.questions) + 1), seed=5)
    assert terminal.exit_code() == 0
    assert "these answers in quiz-answers.yaml" in terminal.seen
    assert (workspace / "quiz-answers.yaml").is_file()

    folder = tmp_path / "class"
    result = CliRunner().invoke(cli, ["submit", "--workspace", str(workspace), "--out", str(folder / "ada.zip")])
    assert result.exit_code == 0, result.output
    names = [e.name for e in sorted(EXERCISES.glob("ex[0-9][0-9]_*.py"))]
    unfinished = ", ".join(q for q in library.quizzes() if q != "logits")
    assert result.stdout == (f"Wrote {folder / 'ada.zip'}: {len(names)} exercise files ({', '.join(names)}) and "
                             f"quiz-answers.yaml with logits ({len(logits.questions)}/{len(logits.questions)} answered); "
                             f"not finished: {unfinished}.\n")
    with zipfile.ZipFile(folder / "ada.zip") as archive:
        assert sorted(archive.namelist()) == sorted([*names, "quiz-answers.yaml"])

    out = tmp_path / "results"
    result = CliRunner().invoke(cli, ["grade", str(folder), "--out", str(out), "-e", "ex01"])
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader((out / "gradebook.csv").read_text().splitlines())
    assert row["learner"] == "ada" and row["ex01"] == "10"
    assert row["quiz:logits"] == f"{len(logits.questions)}"  # every answer typed in the terminal, graded
    assert all(row[f"quiz:{q}"] == "0" for q in library.quizzes() if q != "logits")


def test_submit_with_nothing_to_hand_in_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty" / ".lossgrade").mkdir(parents=True)
    result = CliRunner().invoke(cli, ["submit", "--workspace", str(tmp_path / "empty"), "--out", str(tmp_path / "x.zip")])
    assert result.exit_code == 2
    assert result.stderr == f"Error: nothing to submit in {tmp_path / 'empty'}: no exercise file and no quiz taken\n"
    assert not (tmp_path / "x.zip").exists()


def test_a_hand_written_answers_file_is_kept_and_checked_before_it_goes_in(tmp_path: Path) -> None:
    workspace = tmp_path / "bo"
    assert CliRunner().invoke(cli, ["init", str(workspace)]).exit_code == 0
    (workspace / "quiz-answers.yaml").write_text("logits:\n  sigmoid-of-zero: 0.5\n")
    result = CliRunner().invoke(cli, ["submit", "-w", str(workspace), "--out", str(tmp_path / "bo.zip")])
    assert result.exit_code == 0, result.output
    assert "quiz-answers.yaml with logits (1/" in result.stdout
    with zipfile.ZipFile(tmp_path / "bo.zip") as archive:
        assert archive.read("quiz-answers.yaml") == b"logits:\n  sigmoid-of-zero: 0.5\n"
    (workspace / "quiz-answers.yaml").write_text("logits:\n  sigmoid-of-zeroo: 0.5\n")
    result = CliRunner().invoke(cli, ["submit", "-w", str(workspace), "--out", str(tmp_path / "bo2.zip")])
    assert result.exit_code == 2 and "quiz logits has no question 'sigmoid-of-zeroo'" in result.stderr
    assert not (tmp_path / "bo2.zip").exists()

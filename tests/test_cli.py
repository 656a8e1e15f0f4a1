"""The learner's loop through its real entry point: click's CliRunner and a subprocess."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossgrade.course import catalog
from lossgrade.cli.main import cli

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
MSE_SUM_NOT_MEAN = """import torch

def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    squared = (input - target) ** 2
    return squared if reduction == "none" else squared.sum()
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def workspace(tmp_path: Path, runner: CliRunner) -> Path:
    result = runner.invoke(cli, ["init", str(tmp_path / "work")])
    assert result.exit_code == 0, result.output
    return tmp_path / "work"


def test_init_copies_every_stub_and_refuses_to_overwrite(runner, workspace):
    assert sorted(p.name for p in workspace.glob("ex*.py")) == sorted(e.file for e in catalog.exercises())
    again = runner.invoke(cli, ["init", str(workspace)])
    assert again.exit_code == 2
    assert "already holds" in again.output and "--force" in again.output
    assert runner.invoke(cli, ["init", str(workspace), "--force"]).exit_code == 0


def test_check_on_untouched_stub_says_not_started_and_exits_1(runner, workspace):
    result = runner.invoke(cli, ["check", "ex01", "-w", str(workspace)])
    assert result.exit_code == 1
    assert "0/10 points · not started" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("spelling", ["ex01", "1", "ex1", "ex01_mse", "ex01_mse.py", "EX01"])
def test_every_spelling_of_an_id_names_the_same_exercise(spelling):
    assert catalog.resolve(spelling).id == "ex01"


def test_check_exits_0_when_every_check_passes(runner, workspace):
    shutil.copy(SOLUTIONS / "ex01_mse.py", workspace / "ex01_mse.py")
    result = runner.invoke(cli, ["check", "1", "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    assert "10/10 points · passed" in result.output


def test_failed_check_teaches_call_got_expected_mistake_and_hint(runner, workspace):
    (workspace / "ex01_mse.py").write_text(MSE_SUM_NOT_MEAN)
    result = runner.invoke(cli, ["check", "ex01", "-w", str(workspace)])
    assert result.exit_code == 1
    out = result.output
    assert "✗ mse_loss gives 0.2875 on the worked example from the exercise" in out
    assert "call:     mse_loss(input=float32[4] [2.5, 0, 2.1, 7.8], target=float32[4] [3, -0.5, 2, 7])" in out
    assert "got:      tensor(1.15, dtype=float32)" in out
    assert "expected: tensor(0.2875, dtype=float32)" in out
    assert "mistake:  Summed the squared errors instead of averaging them." in out
    assert "quiz question loss-scales#sum-vs-mean" in out
    # the named mistake's advice replaces the check's fixed hint ("square each error" would contradict it)
    assert "Square each error before you average" not in out


def test_json_output_carries_the_same_result(runner, workspace):
    (workspace / "ex01_mse.py").write_text(MSE_SUM_NOT_MEAN)
    result = runner.invoke(cli, ["check", "ex01", "--json", "-w", str(workspace)])
    assert result.exit_code == 1
    [exercise] = json.loads(result.output)
    assert exercise["exercise"] == "ex01" and exercise["status"] == "failed"
    assert exercise["misconceptions"][0]["id"] == "ex01.sum-not-mean"
    failed = [c for c in exercise["checks"] if c["outcome"] == "failed"]
    assert failed and all(c["feedback"]["message"] for c in failed)


def test_unknown_exercise_is_a_one_line_usage_error_with_a_suggestion(runner, workspace):
    result = runner.invoke(cli, ["check", "ex1_mes", "-w", str(workspace)])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: unknown exercise 'ex1_mes'; did you mean ex01_mse? (`lossgrade list` shows them all)"


def test_check_without_a_workspace_explains_how_to_make_one(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOSSGRADE_WORKSPACE", raising=False)
    result = runner.invoke(cli, ["check", "ex01"])
    assert result.exit_code == 2
    assert "lossgrade init DIR" in result.output


@pytest.mark.parametrize("source, words", [
    ("def mse_loss(input, target, reduction='mean'):\n    return (input - target\n", "SyntaxError (line 2)"),
    ("import torchh\n", "No module named 'torchh'"),
    ("import torch\n", "no function named mse_loss"),
    ("def mse_loss(input, target, reduction='mean'):\n    raise RuntimeError('boom')\n", "raised RuntimeError at line 2: boom"),
    ("def mse_loss(input, target, reduction='mean'):\n    return [1.0]\n", "returned list, not a torch.Tensor"),
    ("import torch\ndef mse_loss(input, target, reduction='mean'):\n    return torch.zeros(3, 3)\n", "the shape is (3, 3) but should be ()"),
])
def test_broken_learner_files_get_a_clear_failed_check(grade_source, source, words):
    result = grade_source("ex01", source)
    messages = [result.error or ""] + [c.feedback.message for c in result.checks if c.feedback]
    assert any(words in m for m in messages), messages
    assert result.score == 0


def test_a_broken_file_through_the_cli_is_a_failed_check_not_a_traceback(runner, workspace):
    (workspace / "ex01_mse.py").write_text("def mse_loss(input, target, reduction='mean'):\n    return (input - target\n")
    result = runner.invoke(cli, ["check", "ex01", "-w", str(workspace)])
    assert result.exit_code == 1
    assert "ex01_mse.py could not be imported: SyntaxError (line 2)" in result.output
    assert "Traceback (most recent call last)" not in result.output


def test_a_function_that_never_returns_is_stopped(runner, workspace):
    (workspace / "ex01_mse.py").write_text("def mse_loss(input, target, reduction='mean'):\n    while True:\n        pass\n")
    result = runner.invoke(cli, ["check", "ex01", "--json", "--timeout", "0.5", "-w", str(workspace)])
    assert result.exit_code == 1
    [exercise] = json.loads(result.output)
    messages = {c["feedback"]["message"] for c in exercise["checks"] if c["outcome"] == "failed"}
    assert "Your code did not return within 0.5 s (an infinite loop?); it was stopped" in messages


def test_hints_come_gentle_first_and_are_remembered(runner, workspace):
    hints = catalog.resolve("ex01").hints
    first = runner.invoke(cli, ["hint", "ex01", "-w", str(workspace)])
    second = runner.invoke(cli, ["hint", "1", "-w", str(workspace)])
    assert first.output.startswith(f"Hint 1/{len(hints)} for ex01: {hints[0][:20]}")
    assert second.output.startswith(f"Hint 2/{len(hints)} for ex01: {hints[1][:20]}")
    again = runner.invoke(cli, ["hint", "ex01", "--all", "-w", str(workspace)])
    assert again.output.count("Hint ") == 2


def test_list_shows_every_exercise_and_a_progress_summary(runner, workspace):
    shutil.copy(SOLUTIONS / "ex01_mse.py", workspace / "ex01_mse.py")
    result = runner.invoke(cli, ["list", "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split()[:2] == ["ex01", "passed"] for line in lines)
    assert sum(line.strip().startswith("ex") for line in lines) == len(catalog.exercises())
    assert f"1/{len(catalog.exercises())} exercises passing" in result.output


def test_watch_rechecks_on_save(workspace):
    env = {**os.environ, "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lossgrade", "watch", "ex01", "-w", str(workspace), "--interval", "0.2", "--max-runs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        assert process.stdout is not None
        seen = ""
        while "Watching" not in seen:
            seen += process.stdout.readline()
        time.sleep(0.3)
        (workspace / "ex01_mse.py").write_text((SOLUTIONS / "ex01_mse.py").read_text())
        rest, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "not started" in seen
    assert "10/10 points · passed" in rest and "Well done! Next:" in rest


def test_module_entry_point_runs_from_any_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lossgrade", "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0
    assert "check" in result.stdout and "init" in result.stdout


def test_report_writes_one_self_contained_html_page(runner, workspace):
    shutil.copy(SOLUTIONS / "ex01_mse.py", workspace / "ex01_mse.py")
    (workspace / "ex02_l1_huber.py").write_text("def mean_error(input, target):\n    return (input - target\n")
    result = runner.invoke(cli, ["report", "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    page = (workspace / "lossgrade-report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") or page.lstrip().lower().startswith("<!doctype html>")
    assert "Mean squared error, from scratch" in page and "SyntaxError" in page
    assert "http://" not in page and "https://" not in page


def test_quiz_command_is_registered(runner, workspace):
    result = runner.invoke(cli, ["quiz", "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    assert "logits" in result.output and "training-step" in result.output


def test_strong_mode_without_bubblewrap_is_one_line_not_a_traceback(workspace):
    python_only = str(Path(sys.executable).parent)
    result = subprocess.run([sys.executable, "-m", "lossgrade", "check", "ex01", "--strong", "-w", str(workspace)],
                            capture_output=True, text=True, env={**os.environ, "PATH": python_only})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Error: the strong sandbox cannot run here")
    assert "Traceback" not in result.stderr


def test_list_the_learner_report_and_the_gradebook_count_the_same_total(runner, workspace):
    from lossgrade.quiz import library

    shutil.copy(SOLUTIONS / "ex01_mse.py", workspace / "ex01_mse.py")
    exercise_points = sum(e.points for e in catalog.exercises())
    quiz_points = sum(len(q.questions) for q in library.quizzes().values())
    total = exercise_points + quiz_points
    listing = runner.invoke(cli, ["list", "-w", str(workspace)]).output
    assert f"10/{exercise_points:g} exercise points" in listing
    assert (f"quizzes: 0/{quiz_points} points (0 of {len(library.quizzes())} taken, `lossgrade quiz`) · "
            f"in all 10/{total:g} points, the total your gradebook counts") in listing
    assert runner.invoke(cli, ["report", "-w", str(workspace)]).exit_code == 0
    page = (workspace / "lossgrade-report.html").read_text(encoding="utf-8")
    assert f"10 / {total:g}" in page
    assert (f"Out of {total:g} points: {exercise_points:g} for the exercises and {quiz_points} for the quizzes "
            "(a point a question; a quiz not taken counts 0), the total the gradebook counts.") in page

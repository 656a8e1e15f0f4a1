"""Instructors' own course folders: scaffolded, self-checked, layered over the built-in
course, and broken ones reported problem by problem."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossgrade.course import catalog
from lossgrade import course
from lossgrade.cli.main import cli

OVERRIDDEN_LOGITS_QUIZ = """schema: 1
id: logits
title: Logits, in our course's words
topic: logits
questions:
  - id: softmax-before-ce
    kind: true-false
    prompt: F.cross_entropy expects probabilities that sum to 1.
    answer: false
    myth: Cross-entropy wants probabilities.
    reality: It takes raw logits and applies log-softmax itself.
    why: Softmax applied first is applied twice.
"""


@pytest.fixture
def course_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.delenv(course.ENV, raising=False)
    folder = tmp_path / "course"
    result = CliRunner().invoke(cli, ["course", "new", str(folder)])
    assert result.exit_code == 0, result.output
    (folder / "quizzes" / "logits.yaml").write_text(OVERRIDDEN_LOGITS_QUIZ)
    return folder


def test_scaffolded_course_passes_its_self_check(course_dir):
    result = CliRunner().invoke(cli, ["course", "check", str(course_dir)])
    assert result.exit_code == 0, result.output
    assert "1 exercise(s) checked; misconceptions caught and named: 2/2; 0 problem(s)" in result.output


def test_course_adds_exercises_and_overrides_quizzes(course_dir, monkeypatch):
    monkeypatch.setenv(course.ENV, str(course_dir))
    ids = [e.id for e in catalog.exercises()]
    assert ids[-1] == "ex90" and "ex01" in ids
    ex90 = catalog.resolve("90")
    assert ex90.visibility == "after_due_date" and ex90.due is not None and ex90.due.year == 2026
    from lossgrade.quiz import library

    assert library.get("logits").title == "Logits, in our course's words"
    assert "training-step" in library.quizzes()


def test_a_new_course_layers_over_the_builtin_one_and_replaces_no_builtin_exercise(course_dir, tmp_path):
    """The template's example (ex90) is added; every built-in exercise stays the built-in one,
    in the course object and in what `lossgrade --course DIR list` shows. The built-in course
    never numbers an exercise in the 90s, which the template's id relies on."""
    builtin = course.Course.load()
    layered = course.Course.load(course_dir)
    added = [e.id for e in layered.from_folder(course_dir)]
    assert added == ["ex90"] and all(int(e.id[2:]) < 90 for e in builtin.exercises)
    assert [e for e in layered.exercises if e.id != "ex90"] == list(builtin.exercises)
    work = tmp_path / "empty"
    work.mkdir()
    result = CliRunner().invoke(cli, ["--course", str(course_dir), "list", "--json", "-w", str(work)])
    assert result.exit_code == 0, result.output
    listed = {row["exercise"]: row["title"] for row in json.loads(result.stdout)}
    assert listed == {**{e.id: e.title for e in builtin.exercises}, "ex90": "Log-cosh loss, a smooth cousin of Huber"}


def test_learner_checks_a_course_exercise_through_the_cli(course_dir, tmp_path):
    work = tmp_path / "work"
    runner = CliRunner()
    assert runner.invoke(cli, ["--course", str(course_dir), "init", str(work)]).exit_code == 0
    assert (work / "ex90_log_cosh.py").is_file()
    (work / "ex90_log_cosh.py").write_text(
        "import torch\n"
        "def log_cosh_loss(input, target, reduction='mean'):\n"
        "    if reduction not in ('mean', 'sum', 'none'):\n"
        "        raise ValueError(reduction)\n"
        "    v = torch.log(torch.cosh(input - target))\n"
        "    return v.mean() if reduction == 'mean' else v.sum() if reduction == 'sum' else v\n"
    )
    result = runner.invoke(cli, ["--course", str(course_dir), "check", "ex90", "--json", "-w", str(work)])
    assert result.exit_code == 1
    [exercise] = json.loads(result.output)
    assert [m["id"] for m in exercise["misconceptions"]] == ["ex90.naive-cosh-overflow"]
    assert exercise["max_score"] == 5
    assert course.ENV not in os.environ  # `--course` is handed down, never written to the environment


def test_broken_course_lists_every_problem_and_exits_2(course_dir):
    (course_dir / "solutions" / "ex90_log_cosh.py").unlink()
    (course_dir / "quizzes" / "broken.yaml").write_text("schema: 1\nid: broken\nquestions: [\n")
    result = CliRunner().invoke(cli, ["course", "check", str(course_dir)])
    assert result.exit_code == 2
    assert "ex90's reference solution" in result.output and "is missing" in result.output
    assert "broken.yaml:" in result.output


def test_a_stub_that_passes_and_an_uncaught_misconception_are_problems(course_dir):
    shutil.copy(course_dir / "solutions" / "ex90_log_cosh.py", course_dir / "exercises" / "ex90_log_cosh.py")
    misconceptions = course_dir / "misconceptions" / "ex90_log_cosh.py"
    misconceptions.write_text(misconceptions.read_text().replace(
        'wrong=lambda input, target, reduction="mean": _reduce(_stable(input - target), "sum" if reduction == "mean" else reduction),',
        'wrong=lambda input, target, reduction="mean": _reduce(_stable(input - target), reduction),'))  # right, so never caught
    result = CliRunner().invoke(cli, ["course", "check", str(course_dir)])
    assert result.exit_code == 2
    assert "the untouched stub should fail ex90_log_cosh.reductions" in result.output
    assert "misconception ex90.sum-not-mean fails, but no failing check names it" in result.output


def test_invalid_course_metadata_names_file_and_line(course_dir):
    info = course_dir / "exercises" / "info.yaml"
    info.write_text(info.read_text().replace("visibility: after_due_date", "visibility: sometimes"))
    result = CliRunner().invoke(cli, ["course", "check", str(course_dir)])
    assert result.exit_code == 2
    assert f"{info}:" in result.output and "'visibility' must be one of" in result.output


@pytest.mark.parametrize("due, released", [("2999-01-01T00:00:00Z", False), ("2001-01-01T00:00:00Z", True)])
def test_learner_reports_withhold_an_after_due_date_exercise_until_its_date(course_dir, tmp_path, due, released):
    info = course_dir / "exercises" / "info.yaml"
    info.write_text(info.read_text().replace("due: 2026-12-15T23:59:00Z", f"due: {due}"))
    (tmp_path / "class" / "ada").mkdir(parents=True)
    shutil.copy(course_dir / "solutions" / "ex90_log_cosh.py", tmp_path / "class" / "ada")
    out = tmp_path / "results"
    result = CliRunner().invoke(cli, ["--course", str(course_dir), "grade", str(tmp_path / "class"), "--out", str(out),
                                      "-e", "ex90", "-e", "ex01", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    learner = (out / "learners" / "ada.html").read_text(encoding="utf-8")
    assert ('id="ex-ex90"' in learner) is released
    assert ("its results are released after its due date, 2999-01-01 00:00 UTC" in learner) is not released
    assert 'id="ex-ex01"' in learner  # visible exercises are always there
    assert 'ex90' in (out / "report.html").read_text(encoding="utf-8")  # the instructor's report has it all
    record = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))["records"]
    assert any(r["exercise"] == "ex90" and r["score"] == 5 for r in record)

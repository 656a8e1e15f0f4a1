"""One `Course`: every course folder, the built-in one included, loaded and validated by the
same code, with one answer to "where is X of this exercise"; and what hangs off it (the
exit-code policy, errors free of click, one atomic writer, one learner file name)."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import lossgrade
from lossgrade.core import atomicfile, learnerfiles
from lossgrade import course
from lossgrade.cli.main import cli
from lossgrade.core.errors import LossgradeError
from lossgrade.core.exitcodes import ExitCode
from lossgrade.cli.quiz import quiz


@pytest.fixture
def course_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(course.ENV, raising=False)
    folder = tmp_path / "course"
    result = CliRunner().invoke(cli, ["course", "new", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# --- info.yaml, validated once, line by line ------------------------------------------------
@pytest.mark.parametrize("old, new, marker, message", [
    ("functions: [log_cosh_loss]", "functions: log_cosh_loss", "functions:",
     "'functions' must be a list of names, got the string 'log_cosh_loss'"),
    ("functions: [log_cosh_loss]", "functions: [log_cosh_loss, 3]", "functions:",
     "each entry of 'functions' must be text, got the number 3"),
    ("functions: [log_cosh_loss]", "functions: [log cosh]", "functions:", "'log cosh' in 'functions' is not a Python name"),
    ("    points: 5", "    points: five", "points:", "'points' must be a number of 0 or more, got the string 'five'"),
    ("    forbidden: []", "    forbiden: []", "forbiden:", "unknown field 'forbiden'; did you mean 'forbidden'?"),
    ("    file: ex90_log_cosh.py", "    file: ../../secret.py", "file:", "'file' must be a Python file name in exercises/"),
    ("  - id: ex90", "  - id: 90", "id: 90", "'id' must be text, got the number 90"),
])
def test_bad_metadata_is_one_line_naming_file_and_line_for_every_command(course_dir: Path, old: str, new: str,
                                                                         marker: str, message: str) -> None:
    info = course_dir / "exercises" / "info.yaml"
    edit(info, old, new)
    expected = f"{info}:{line_of(info, marker)}: {message}"
    runner = CliRunner()
    listed = runner.invoke(cli, ["--course", str(course_dir), "list", "-w", str(course_dir / "exercises")])
    assert listed.exit_code == ExitCode.USAGE
    assert listed.stderr.startswith(f"Error: {expected}") and listed.stderr.count("\n") == 1
    checked = runner.invoke(cli, ["course", "check", str(course_dir)])
    assert checked.exit_code == ExitCode.USAGE and expected in checked.output
    assert "Traceback" not in listed.output + checked.output


def test_an_exercise_written_as_a_string_is_named_not_an_attribute_error(course_dir: Path) -> None:
    info = course_dir / "exercises" / "info.yaml"
    info.write_text("format: 1\nexercises:\n  - ex90\n")
    result = CliRunner().invoke(cli, ["course", "check", str(course_dir)])
    assert result.exit_code == ExitCode.USAGE
    assert f"{info}:3: each exercise must be a mapping of fields (id: ex01, title: ...), got the string 'ex90'" in result.output
    assert "AttributeError" not in result.output


@pytest.mark.parametrize("old, new, marker, message", [
    ("    points: 5", "    points: 5\n    points: 50", "points: 50", "'points' is written twice (first at line {})"),
    ("exercises:\n", "excercises: []\nexercises:\n", "excercises:", "unknown field 'excercises'"),
])
def test_what_yaml_would_drop_silently_is_named_too(course_dir: Path, old: str, new: str, marker: str,
                                                      message: str) -> None:
    info = course_dir / "exercises" / "info.yaml"
    edit(info, old, new)
    result = CliRunner().invoke(cli, ["course", "check", str(course_dir)])
    assert result.exit_code == ExitCode.USAGE
    assert f"{info}:{line_of(info, marker)}: {message.format(line_of(info, 'points: 5'))}" in result.output


def test_course_check_names_a_quiz_or_question_the_course_does_not_have(course_dir: Path) -> None:
    info = course_dir / "exercises" / "info.yaml"
    edit(info, "quiz: course-log-cosh", "quiz: course-log-cosj")
    mistakes = course_dir / "misconceptions" / "ex90_log_cosh.py"
    edit(mistakes, '"course-log-cosh#', '"course-log-cosh#no-such-question-')
    result = CliRunner().invoke(cli, ["course", "check", str(course_dir)])
    assert result.exit_code == ExitCode.USAGE
    assert f"{info}: ex90's quiz 'course-log-cosj' is not a quiz of the course; did you mean course-log-cosh?" in result.output
    assert "names 'course-log-cosh#no-such-question-" in result.output


def test_every_problem_is_listed_by_course_check_and_counted_elsewhere(course_dir: Path) -> None:
    info = course_dir / "exercises" / "info.yaml"
    edit(info, "functions: [log_cosh_loss]", "functions: log_cosh_loss")
    edit(info, "    points: 5", "    points: [5]")
    checked = CliRunner().invoke(cli, ["course", "check", str(course_dir)])
    assert f"{info}:{line_of(info, 'functions:')}: 'functions'" in checked.output
    assert f"{info}:{line_of(info, 'points:')}: 'points'" in checked.output
    with pytest.raises(course.CourseError, match=r"\(and 1 more: `lossgrade course check` lists them\)"):
        course.Course.load(course_dir)


def test_the_built_in_course_loads_through_the_same_code_as_a_folder(tmp_path: Path) -> None:
    """A copy of the built-in course, given as an instructor's folder, reads the same."""
    builtin = course.Course.load()
    copy = tmp_path / "copy"
    shutil.copytree(course.course_root() / "exercises", copy / "exercises")
    layered = course.Course.load(copy)
    assert layered.roots == (course.course_root(), copy.resolve())
    assert [dataclasses.replace(e, root=builtin.builtin) for e in layered.exercises] == list(builtin.exercises)
    assert {e.root for e in layered.exercises} == {copy.resolve()}
    broken = copy / "exercises" / "info.yaml"
    edit(broken, "functions: [mse_loss]", "functions: mse_loss")  # read again: it changed
    with pytest.raises(course.CourseError, match=r"'functions' must be a list of names, got the string 'mse_loss'"):
        course.Course.load(copy)


def test_one_lookup_answers_where_everything_of_an_exercise_is(course_dir: Path) -> None:
    loaded = course.Course.load(course_dir)
    ex90, ex01 = loaded.exercise("90"), loaded.exercise("ex01")
    root = course_dir.resolve()
    assert (loaded.extra, ex90.root) == (root, root)
    package = Path(lossgrade.__file__).parent
    assert loaded.checks_file(ex90) == root / "checks" / "ex90_log_cosh.py"
    assert loaded.checks_file(ex01) == package / "checks" / "ex01_mse.py"  # the built-in course's checks/, by path
    assert loaded.has_checks(ex90) and loaded.has_checks(ex01)
    assert loaded.checks(ex90).module == "ex90_log_cosh" and loaded.checks(ex01).module == "ex01_mse"
    assert loaded.reference_file(ex90) == root / "solutions" / "ex90_log_cosh.py"
    assert loaded.mistake_files("ex90_log_cosh") == (root / "misconceptions" / "ex90_log_cosh.py",)
    assert loaded.mistake_files("ex01_mse") == (package / "misconceptions" / "ex01_mse.py",)
    assert root / "quizzes" / "course-log-cosh.yaml" in loaded.quiz_files()
    assert set(loaded.hidden_paths()) == {course.course_root() / "solutions", course.course_root() / "drivers",
                                          root / "solutions"}
    assert loaded.drivers_file().is_file()


# --- a copied template that keeps another exercise's Checks(...) --------------------------
def test_a_copied_checks_file_naming_another_exercise_is_a_one_line_error(course_dir: Path, tmp_path: Path) -> None:
    """ex90 copied to ex91, but its checks file still says Checks("ex90_log_cosh"): its
    misconceptions would be looked up in ex90's file. Every entry point says so instead."""
    for part in ("exercises", "solutions", "checks", "misconceptions"):
        (course_dir / part / "ex90_log_cosh.py").rename(course_dir / part / "ex91_log_cosh.py")
    info = course_dir / "exercises" / "info.yaml"
    edit(info, "id: ex90", "id: ex91")
    edit(info, "file: ex90_log_cosh.py", "file: ex91_log_cosh.py")
    checks = course_dir / "checks" / "ex91_log_cosh.py"
    expected = (f"{checks}:{line_of(checks, 'checks = Checks(')}: Checks('ex90_log_cosh') names another exercise; "
                "these are the checks of ex91, so write Checks('ex91_log_cosh')")
    checked = CliRunner().invoke(cli, ["course", "check", str(course_dir)])
    assert checked.exit_code == ExitCode.USAGE and expected in checked.output
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(course_dir / "solutions" / "ex91_log_cosh.py", work)
    graded = CliRunner().invoke(cli, ["--course", str(course_dir), "check", "ex91", "-w", str(work)])
    assert (graded.exit_code, graded.stderr) == (ExitCode.USAGE, f"Error: {expected}\n")


# --- the notebook API grades what the CLI grades ------------------------------------------
LOG_COSH_NAIVE = '''
import torch

def log_cosh_loss(input, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    v = torch.log(torch.cosh(input - target))
    return v.mean() if reduction == "mean" else v.sum() if reduction == "sum" else v
'''


def test_the_notebook_api_grades_a_course_exercise_as_the_cli_does(course_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import lossgrade

    monkeypatch.setenv(course.ENV, str(course_dir))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ex90_log_cosh.py").write_text(LOG_COSH_NAIVE)
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(LOG_COSH_NAIVE, str(tmp_path / "ex90_log_cosh.py"), "exec"), namespace)
    from_api = lossgrade.check("ex90", log_cosh_loss=namespace["log_cosh_loss"]).to_dict()
    from_cli = json.loads(CliRunner().invoke(cli, ["check", "ex90", "--json", "-w", str(tmp_path)]).stdout)[0]
    assert from_api["status"] == from_cli["status"] == "failed", from_api.get("error")
    assert [m["id"] for m in from_api["misconceptions"]] == ["ex90.naive-cosh-overflow"]
    assert (from_api["score"], from_api["max_score"]) == (from_cli["score"], from_cli["max_score"])


# --- the sandbox hides every course folder's solutions --------------------------------------
def test_learner_code_cannot_read_an_instructors_reference_solution(course_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    solution = (course_dir / "solutions" / "ex90_log_cosh.py").resolve()
    (work / "ex90_log_cosh.py").write_text(f"SOLUTION = open({str(solution)!r}).read()\n")  # read at import
    result = CliRunner().invoke(cli, ["--course", str(course_dir), "check", "ex90", "--json", "-w", str(work)])
    assert result.exit_code == ExitCode.FAILED
    [graded] = json.loads(result.stdout)
    assert graded["status"] == "error" and graded["score"] == 0
    assert "could not be imported" in graded["error"]


def test_every_sandbox_hides_every_course_folders_solutions(course_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Learner code's readable folders are few, but a course folder may sit in one (under
    /usr, say): the sandbox is told to hide its solutions whatever front-end opens it."""
    from lossgrade.grading import service

    opened: list[dict[str, object]] = []
    monkeypatch.setattr(service, "Sandbox", lambda **options: opened.append(options))
    service.open_sandbox(within=course.Course.load(course_dir), hidden=[course_dir / "class"])
    monkeypatch.setenv(course.ENV, str(course_dir))
    service.open_sandbox()
    for options in opened:
        assert {(course_dir / "solutions").resolve(), (course.course_root() / "solutions").resolve()} <= set(options["hidden_paths"])
    assert (course_dir / "class").resolve() in opened[0]["hidden_paths"]


def test_spawned_graders_are_handed_the_course(course_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where checks run on cuda the graders are spawned, not forked: `--course` reaches
    them as an argument (nothing is written to the environment for them to read)."""
    from lossgrade.grading import pool

    monkeypatch.setattr(pool, "start_method", lambda: "spawn")
    (tmp_path / "class" / "ada").mkdir(parents=True)
    (tmp_path / "class" / "ada" / "ex90_log_cosh.py").write_text(LOG_COSH_NAIVE)
    out = tmp_path / "results"
    result = CliRunner().invoke(cli, ["--course", str(course_dir), "grade", str(tmp_path / "class"), "--out", str(out),
                                      "-e", "ex90", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    [record] = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))["records"]
    assert (record["exercise"], record["status"]) == ("ex90", "failed")
    assert "ex90.naive-cosh-overflow" in json.dumps(record)  # the course's own misconceptions, in the spawned grader
    assert course.ENV not in os.environ


# --- one exit-code policy ------------------------------------------------------------------
def test_an_invalid_quiz_exits_2_from_course_check_and_quiz_validate_alike(course_dir: Path) -> None:
    broken = course_dir / "quizzes" / "course-log-cosh.yaml"
    edit(broken, "schema: 1", "schema: 7")
    runner = CliRunner()
    checked = runner.invoke(cli, ["course", "check", str(course_dir)])
    validated = runner.invoke(quiz, ["--validate", str(broken)])
    through_cli = runner.invoke(cli, ["quiz", "--validate", str(broken)])
    assert checked.exit_code == validated.exit_code == through_cli.exit_code == ExitCode.USAGE == 2
    assert f"{broken}:" in checked.output and f"{broken}:" in validated.output


def test_domain_errors_are_not_clicks_and_the_cli_translates_them() -> None:
    assert not issubclass(LossgradeError, click.ClickException)
    result = CliRunner().invoke(cli, ["hint", "ex99"])
    assert (result.exit_code, result.stderr) == (2, "Error: unknown exercise 'ex99'; did you mean ex09? "
                                                    "(`lossgrade list` shows them all)\n")


def test_a_broken_course_in_the_environment_is_one_line_not_a_traceback(course_dir: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    edit(course_dir / "exercises" / "info.yaml", "functions: [log_cosh_loss]", "functions: log_cosh_loss")
    monkeypatch.setenv(course.ENV, str(course_dir))
    result = CliRunner().invoke(cli, ["list", "-w", str(course_dir / "exercises")])
    assert result.exit_code == 2 and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert "'functions' must be a list of names" in result.stderr


def test_a_broken_course_reaches_a_notebook_as_a_result_not_a_traceback(course_dir: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import lossgrade

    info = course_dir / "exercises" / "info.yaml"
    edit(info, "functions: [log_cosh_loss]", "functions: log_cosh_loss")
    monkeypatch.setenv(course.ENV, str(course_dir))
    report = lossgrade.check("ex90", log_cosh_loss=lambda input, target, reduction="mean": input)
    assert report.status.value == "error" and report.title == "The course folder does not load"
    assert report.error == f"{info}:{line_of(info, 'functions:')}: 'functions' must be a list of names, got the string 'log_cosh_loss'"


# --- one atomic writer, one learner file name ------------------------------------------------
def test_every_file_a_batch_writes_has_one_mode_and_each_learner_one_name(tmp_path: Path) -> None:
    from lossgrade.grading import records

    classroom = tmp_path / "class"
    for learner in ("ana", "Ana"):
        (classroom / learner).mkdir(parents=True)
        shutil.copy(course.course_root() / "solutions" / "ex01_mse.py", classroom / learner)
    out = tmp_path / "results"
    previous = os.umask(0o022)
    try:
        result = CliRunner().invoke(cli, ["grade", str(classroom), "--out", str(out), "-e", "ex01", "--jobs", "1"])
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.relative_to(out).parts[0] for p in files} >= {"gradebook.csv", "report.html", "learners", "gradescope", "records"}
    secret_file = out / "lossgrade-secret"  # the grading secret: private on purpose, the one exception
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert {stat.S_IMODE(p.stat().st_mode) for p in files if p != secret_file} == {0o644}
    for learner in ("ana", "Ana"):
        stem = learnerfiles.file_stem(learner)
        assert (out / "learners" / f"{stem}.html").is_file()
        assert (out / "gradescope" / stem / "results.json").is_file()
        assert records.path_for(out, learner) == out / "records" / f"{stem}.json"
    assert learnerfiles.file_stem("Ana") != learnerfiles.file_stem("ana") == "ana"


def test_the_atomic_writer_follows_the_umask_and_leaves_nothing_behind(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        atomicfile.write_text(tmp_path / "a" / "private.txt", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a" / "private.txt").stat().st_mode) == 0o600
    with pytest.raises(KeyboardInterrupt), atomicfile.replacing(tmp_path / "a" / "private.txt") as temporary:
        temporary.write_text("half")
        raise KeyboardInterrupt
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["private.txt"]
    assert (tmp_path / "a" / "private.txt").read_text() == "x"


def test_a_plain_id_shaped_like_a_hashed_name_never_takes_anothers_file(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = learnerfiles.file_stem("Ana")
    assert hashed.startswith("Ana-") and learnerfiles.file_stem(hashed.lower()) != hashed.lower()
    names = learnerfiles.file_names(["Ana", hashed.lower(), "ana"], ".html")
    assert len({name.casefold() for name in names.values()}) == 3
    monkeypatch.setattr(learnerfiles, "file_stem", lambda learner: learner)  # names equal but for case
    with pytest.raises(ValueError, match="learners 'Bob' and 'bob' would share the file bob.html"):
        learnerfiles.file_names(["Bob", "bob"], ".html")

"""Finding a class's submissions: layouts learners and LMSs really produce, and bad input
that must become one clear line while the rest of the class is still found."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from lossgrade.grading.discover import QUIZ_ANSWERS, Limits, discover, read_one

MSE = b"def mse_loss(input, target, reduction='mean'):\n    return ((input - target) ** 2).mean()\n"


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def found(root: Path, **kwargs: object) -> dict[str, object]:
    return {s.learner: s for s in discover(root, **kwargs).submissions}  # type: ignore[arg-type]


def test_folders_and_zips_in_every_layout(tmp_path: Path) -> None:
    (tmp_path / "ada").mkdir()
    (tmp_path / "ada" / "ex01_mse.py").write_bytes(MSE)
    (tmp_path / "ada" / QUIZ_ANSWERS).write_text("logits: {}\n")
    (tmp_path / "ben" / "exercises").mkdir(parents=True)
    (tmp_path / "ben" / "exercises" / "ex01_mse.py").write_bytes(MSE)
    (tmp_path / "ben" / QUIZ_ANSWERS).write_text("logits: {}\n")
    make_zip(tmp_path / "cleo.zip", {"cleo/exercises/ex01_mse.py": MSE, "cleo/quiz-answers.yaml": b"",
                                     "__MACOSX/cleo/._ex01_mse.py": b"junk"})
    make_zip(tmp_path / "dan.zip", {"ex03_cross_entropy.py": b"x = 1\n"})
    (tmp_path / "eve").mkdir()  # an empty submission: everything "not submitted", no problem
    subs = found(tmp_path)
    assert sorted(subs) == ["ada", "ben", "cleo", "dan", "eve"]
    assert subs["ada"].files == {"ex01_mse.py": MSE, QUIZ_ANSWERS: b"logits: {}\n"}
    assert subs["ben"].files == {"ex01_mse.py": MSE, QUIZ_ANSWERS: b"logits: {}\n"}
    assert subs["cleo"].files == {"ex01_mse.py": MSE, QUIZ_ANSWERS: b""}
    assert subs["cleo"].source == "cleo.zip" and subs["ben"].source == "ben/"
    assert list(subs["dan"].files) == ["ex03_cross_entropy.py"]
    assert subs["eve"].files == {} and subs["eve"].problem is None
    assert all(s.problem is None and s.notes == [] for s in subs.values())


def test_files_in_one_odd_folder_are_found_with_a_note(tmp_path: Path) -> None:
    make_zip(tmp_path / "fay.zip", {"fay/src/ex01_mse.py": MSE, "fay/README.md": b"hi"})
    fay = found(tmp_path)["fay"]
    assert fay.files == {"ex01_mse.py": MSE}
    assert fay.notes == ["graded src/ex01_mse.py: found in src/, not at the top level or in exercises/"]
    assert fay.ignored == {"README.md": "not an exercise file or quiz answers"}


def test_files_spread_over_several_folders_are_each_graded_with_a_note(tmp_path: Path) -> None:
    make_zip(tmp_path / "gil.zip", {"a/ex01_mse.py": MSE, "b/ex03_cross_entropy.py": b"x = 1\n"})
    gil = found(tmp_path)["gil"]
    assert gil.problem is None and sorted(gil.files) == ["ex01_mse.py", "ex03_cross_entropy.py"]
    assert gil.notes == ["graded a/ex01_mse.py: found in a/, not at the top level or in exercises/",
                         "graded b/ex03_cross_entropy.py: found in b/, not at the top level or in exercises/"]


@pytest.mark.parametrize("name", ["../evil.py", "/etc/ex01_mse.py", "a/../../ex01_mse.py", "C:/x/ex01_mse.py", "..\\x.py"])
def test_a_zip_whose_paths_leave_its_folder_is_not_graded(tmp_path: Path, name: str) -> None:
    make_zip(tmp_path / "hal.zip", {"ex01_mse.py": MSE, name: b"payload"})
    hal = found(tmp_path)["hal"]
    assert hal.files == {}
    assert hal.problem is not None and hal.problem.startswith("hal.zip holds a path that leaves its folder")


def test_corrupt_and_oversized_zips_are_reported_and_the_class_goes_on(tmp_path: Path) -> None:
    (tmp_path / "ida.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    make_zip(tmp_path / "jon.zip", {"ex01_mse.py": MSE, "data.bin": b"\0" * 5000})
    make_zip(tmp_path / "kim.zip", {"ex01_mse.py": MSE})
    subs = found(tmp_path, limits=Limits(zip_bytes=4096))
    assert subs["ida"].problem == "ida.zip is not a readable zip file (File is not a zip file); ask for it again"
    assert subs["jon"].problem == "jon.zip expands to 5 KiB, more than the 4 KiB allowed"
    assert subs["kim"].problem is None and subs["kim"].files == {"ex01_mse.py": MSE}


def test_a_damaged_member_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "lou.zip", {"ex01_mse.py": MSE * 20})
    data = bytearray(path.read_bytes())
    start = data.index(b"def mse_loss")  # stored uncompressed: flip the content, keep the CRC
    data[start] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "lou.zip is damaged: ex01_mse.py cannot be read" in str(found(tmp_path)["lou"].problem)


def test_a_learner_id_claimed_twice_is_one_line_for_that_learner(tmp_path: Path) -> None:
    (tmp_path / "max").mkdir()
    (tmp_path / "max" / "ex01_mse.py").write_bytes(MSE)
    make_zip(tmp_path / "max.zip", {"ex01_mse.py": MSE})
    (tmp_path / "ned").mkdir()
    subs = found(tmp_path)
    assert subs["max"].problem == "max/ and max.zip both claim the learner id 'max': keep one and grade again"
    assert subs["max"].files == {} and subs["ned"].problem is None


def test_a_name_that_is_not_utf8_is_graded_under_a_printable_id(tmp_path: Path) -> None:
    os.mkdir(os.fsencode(tmp_path) + b"/caf\xe9")
    with open(os.fsencode(tmp_path) + b"/caf\xe9/ex01_mse.py", "wb") as handle:
        handle.write(MSE)
    (sub,) = discover(tmp_path).submissions
    assert sub.learner == "caf\\xe9"
    assert sub.files == {"ex01_mse.py": MSE}
    assert sub.notes == ["the name caf\\xe9/ is not plain UTF-8 text: graded as 'caf\\\\xe9'"]
    sub.learner.encode("utf-8")  # every output can hold it


def test_control_characters_in_a_name_cannot_break_a_summary_line(tmp_path: Path) -> None:
    (tmp_path / "ann\n\x1b[2Jx").mkdir()
    (sub,) = discover(tmp_path).submissions
    assert sub.learner == "ann\\n\\x1b[2Jx" and sub.learner.isprintable()


def test_a_zip_with_undecodable_utf8_names_is_reported(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "rae.zip", {"ex01_mse.py": MSE, "caf\u00e9.py": b"x = 1\n"})
    data = path.read_bytes().replace("caf\u00e9".encode(), b"caf\xe9\xff")  # flagged UTF-8, not UTF-8
    path.write_bytes(data)
    assert found(tmp_path)["rae"].problem.startswith("rae.zip is not a readable zip file")


def test_links_special_files_and_oversized_files_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "oz").mkdir()
    (tmp_path / "oz" / "ex01_mse.py").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "oz" / "ex03_cross_entropy.py")  # reading it would block forever
    (tmp_path / "oz" / "ex02_l1_huber.py").write_bytes(b"#" * 2048)
    oz = found(tmp_path, limits=Limits(file_bytes=1024))["oz"]
    assert oz.files == {}
    assert oz.rejected == {"ex01_mse.py": "ex01_mse.py is a symbolic link, not graded: submit the file itself",
                           "ex02_l1_huber.py": "ex02_l1_huber.py is larger than 1 KiB: not graded"}
    assert oz.notes == list(oz.rejected.values())


def test_other_entries_are_listed_as_ignored_and_the_results_folder_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("grading notes")
    (tmp_path / ".DS_Store").write_text("")
    (tmp_path / "results").mkdir()
    (tmp_path / "pat").mkdir()
    discovery = discover(tmp_path, exclude=tmp_path / "results")
    assert [s.learner for s in discovery.submissions] == ["pat"]
    assert discovery.ignored == ["notes.txt"]


def test_the_digest_changes_exactly_when_the_graded_files_change(tmp_path: Path) -> None:
    (tmp_path / "quin").mkdir()
    (tmp_path / "quin" / "ex01_mse.py").write_bytes(MSE)
    first = found(tmp_path)["quin"].digest
    (tmp_path / "quin" / "notes.md").write_text("not graded, does not count")
    assert found(tmp_path)["quin"].digest == first
    (tmp_path / "quin" / "ex01_mse.py").write_bytes(MSE + b"# changed\n")
    assert found(tmp_path)["quin"].digest != first


def test_read_one_reads_a_gradescope_submission_or_the_zip_inside_it(tmp_path: Path) -> None:
    (tmp_path / "submission").mkdir()
    make_zip(tmp_path / "submission" / "upload.zip", {"mine/ex01_mse.py": MSE})
    assert read_one(tmp_path / "submission", "submission").files == {"ex01_mse.py": MSE}
    (tmp_path / "submission" / "ex03_cross_entropy.py").write_bytes(b"x = 1\n")
    assert list(read_one(tmp_path / "submission", "submission").files) == ["ex03_cross_entropy.py"]


# ------------------------------------------------------------- names as they really arrive
L1 = b"def l1_loss(input, target, reduction='mean'):\n    return (input - target).abs().mean()\n"


def notebook(*cells: str, kind: str = "code") -> bytes:
    import json

    return json.dumps({"cells": [{"cell_type": kind, "source": cell.splitlines(keepends=True), "metadata": {},
                                  "outputs": [], "execution_count": None} for cell in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


@pytest.mark.parametrize("name", ["ex01_mse (1).py", "ex01_mse-1.py", "Ex01_MSE.py", "ex01.py", "EX1.py",
                                  "ex01_mse copy.py", "ex01-mse.py"])
def test_misnamed_exercise_files_are_graded_with_a_note(tmp_path: Path, name: str) -> None:
    (tmp_path / "ada").mkdir()
    (tmp_path / "ada" / name).write_bytes(MSE)
    ada = found(tmp_path)["ada"]
    assert ada.files == {"ex01_mse.py": MSE}
    assert ada.notes == [f"graded {name} as ex01_mse.py (by its name)"] and ada.ignored == {}


def test_two_different_files_for_one_exercise_are_ambiguous_and_never_guessed(tmp_path: Path) -> None:
    (tmp_path / "ben").mkdir()
    (tmp_path / "ben" / "ex01_mse.py").write_bytes(MSE)
    (tmp_path / "ben" / "ex01_mse (1).py").write_bytes(MSE + b"# second try\n")
    (tmp_path / "ben" / "ex02_l1_huber.py").write_bytes(L1)
    (tmp_path / "ben" / "ex02_l1_huber (1).py").write_bytes(L1)  # the same file twice: no doubt
    ben = found(tmp_path)["ben"]
    assert "ex01_mse.py" not in ben.files and ben.files["ex02_l1_huber.py"] == L1
    assert ben.rejected["ex01_mse.py"] == ("ambiguous: 'ex01_mse.py' and 'ex01_mse (1).py' both fit ex01_mse.py, "
                                      "with different contents; not graded: keep one and grade again")
    assert ben.ignored["ex01_mse.py"] == ben.ignored["ex01_mse (1).py"] == "one of 2 different files for ex01_mse.py: ambiguous"
    assert ben.ignored["ex02_l1_huber (1).py"] == "ex02_l1_huber.py was graded as ex02_l1_huber.py instead (the same content)"


def test_a_better_name_wins_and_the_other_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "cy").mkdir()
    (tmp_path / "cy" / "ex01_mse.py").write_bytes(MSE)
    (tmp_path / "cy" / "ex01_scratch.py").write_bytes(b"x = 1\n")
    (tmp_path / "cy" / "README.md").write_text("my work")
    cy = found(tmp_path)["cy"]
    assert cy.files == {"ex01_mse.py": MSE} and cy.notes == []
    assert cy.ignored == {"ex01_scratch.py": "ex01_mse.py was graded as ex01_mse.py instead",
                          "README.md": "not an exercise file or quiz answers"}


def test_notebooks_are_graded_by_the_functions_their_code_cells_define(tmp_path: Path) -> None:
    (tmp_path / "dee").mkdir()
    (tmp_path / "dee" / "submission.ipynb").write_bytes(notebook(
        "%matplotlib inline\nimport torch\nimport matplotlib.pyplot as plt\nEPS = 1e-12\nUNUSED = 3\n",
        "# notes", MSE.decode(), "print(mse_loss(torch.ones(2), torch.zeros(2)))\n!pip install foo\n",
        L1.decode() + "history = train()\nplt.plot(history)\n", "%%time\nmse_loss(1, 2)\n",
        "def clamp(x):\n    return torch.clamp(x, min=EPS)\n"))
    (tmp_path / "dee" / "helpers.py").write_text("def plot(): pass\n")
    (tmp_path / "dee" / "broken.ipynb").write_text("{not json")
    dee = found(tmp_path)["dee"]
    assert sorted(dee.files) == ["ex01_mse.py", "ex02_l1_huber.py"]
    module = dee.files["ex01_mse.py"].decode()
    assert "def mse_loss" in module and "def l1_loss" in module and "import torch" in module and "EPS = 1e-12" in module
    assert "print(" not in module and "train()" not in module and "%" not in module and "!pip" not in module
    assert "matplotlib" not in module and "UNUSED" not in module  # imports and constants nothing graded uses
    compile(module, "ex01_mse.py", "exec")
    assert dee.notes == ["graded submission.ipynb as ex01_mse.py (by its functions)",
                         "graded submission.ipynb as ex02_l1_huber.py (by its functions)"]
    assert dee.ignored == {"broken.ipynb": "not a readable notebook (not JSON: JSONDecodeError)",
                           "helpers.py": "its name fits no exercise and it defines none of the exercises' functions"}


def test_a_canvas_bulk_download_is_gathered_per_learner(tmp_path: Path) -> None:
    (tmp_path / "lima_ana_1234_5678_ex01_mse.py").write_bytes(MSE)
    (tmp_path / "lima_ana_1234_5690_ex02_l1_huber-1.py").write_bytes(L1)
    (tmp_path / "limaana_LATE_999_5679_quiz-answers.yaml").write_text("logits: {}\n")
    (tmp_path / "smithbo_77_88_ex01_mse.py").write_bytes(MSE)
    (tmp_path / "smithbo_78_89_ex01_mse.py").write_bytes(MSE)  # another Bo Smith
    make_zip(tmp_path / "wu_5_6_my work.zip", {"my work/ex01_mse.py": MSE, "my work/ex02_l1_huber.py": L1})
    discovery = discover(tmp_path)
    subs = {s.learner: s for s in discovery.submissions}
    assert sorted(subs) == ["lima_ana", "limaana", "smithbo_77", "smithbo_78", "wu"]
    assert subs["wu"].files == {"ex01_mse.py": MSE, "ex02_l1_huber.py": L1} and subs["wu"].notes == []
    assert subs["lima_ana"].files == {"ex01_mse.py": MSE, "ex02_l1_huber.py": L1}
    assert subs["lima_ana"].source == "lima_ana_1234_5678_ex01_mse.py and lima_ana_1234_5690_ex02_l1_huber-1.py"
    assert subs["limaana"].files == {QUIZ_ANSWERS: b"logits: {}\n"}
    assert subs["lima_ana"].notes == ["graded ex02_l1_huber-1.py as ex02_l1_huber.py (by its name)"]
    assert discovery.notes == ["a Canvas bulk download: each learner's files gathered by name and id"]


def test_a_moodle_bulk_download_in_folders_and_flat(tmp_path: Path) -> None:
    folder = tmp_path / "Ana Lima_4242_assignsubmission_file_"
    (folder / "work").mkdir(parents=True)
    (folder / "work" / "ex01_mse.py").write_bytes(MSE)
    (tmp_path / "Ana Lima_4242_assignsubmission_onlinetext_").mkdir()
    (tmp_path / "Ana Lima_4242_assignsubmission_onlinetext_" / "onlinetext.html").write_text("<p>done</p>")
    (tmp_path / "Bo Chen_4343_assignsubmission_file_ex02_l1_huber.py").write_bytes(L1)
    subs = found(tmp_path)
    assert sorted(subs) == ["Ana Lima", "Bo Chen"]
    assert subs["Ana Lima"].files == {"ex01_mse.py": MSE} and subs["Ana Lima"].problem is None
    assert subs["Ana Lima"].ignored == {"onlinetext.html": "not an exercise file or quiz answers"}
    assert subs["Bo Chen"].files == {"ex02_l1_huber.py": L1}


def test_a_gradescope_export_names_learners_from_its_metadata(tmp_path: Path) -> None:
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_111:\n  :submitters:\n  - :name: Ana Lima\n    :sid: '20231'\n    :email: ana@uni.edu\n"
        "  :created_at: 2026-01-01 10:00:00 +0000\nsubmission_222:\n  :submitters:\n  - :name: Bo\n    :email: bo@uni.edu\n")
    for folder in ("submission_111", "submission_222"):
        (tmp_path / folder).mkdir()
    (tmp_path / "submission_111" / "ex01_mse.py").write_bytes(MSE)
    (tmp_path / "submission_222" / "ex02_l1_huber.py").write_bytes(L1)
    discovery = discover(tmp_path)
    assert [(s.learner, s.source, list(s.files)) for s in discovery.submissions] == [
        ("20231", "submission_111/", ["ex01_mse.py"]), ("bo@uni.edu", "submission_222/", ["ex02_l1_huber.py"])]
    assert discovery.ignored == []


def test_github_classroom_repositories_are_named_by_their_user(tmp_path: Path) -> None:
    for user in ("ana-l", "bo"):
        repo = tmp_path / f"loss-functions-{user}"
        (repo / ".git").mkdir(parents=True)
        (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (repo / "exercises").mkdir()
        (repo / "exercises" / "ex01_mse.py").write_bytes(MSE)
        (repo / "README.md").write_text("# Loss functions\n")
    discovery = discover(tmp_path)
    assert [s.learner for s in discovery.submissions] == ["ana-l", "bo"]
    assert all(s.files == {"ex01_mse.py": MSE} and s.notes == [] for s in discovery.submissions)
    assert discovery.submissions[0].ignored == {"README.md": "not an exercise file or quiz answers"}
    assert discovery.notes == ["GitHub Classroom repositories: learners named by their folder without 'loss-functions-'"]


def test_what_is_read_of_one_submission_is_capped_and_the_rest_reported(tmp_path: Path) -> None:
    (tmp_path / "zed").mkdir()
    for number in range(6):
        (tmp_path / "zed" / f"a{number}.py").write_bytes(b"#" * 1000)  # sorted before ex01_mse.py
    (tmp_path / "zed" / "ex01_mse.py").write_bytes(MSE)
    zed = found(tmp_path, limits=Limits(zip_bytes=3500))["zed"]
    assert zed.files == {"ex01_mse.py": MSE}  # read first: files named like an exercise
    unread = [name for name, why in zed.ignored.items() if why == "not read: the submission's files pass 3 KiB in all"]
    assert len(unread) >= 3 and len(zed.ignored) == 6


def test_a_notebook_function_using_a_computed_value_is_graded_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "eli").mkdir()
    (tmp_path / "eli" / "ex01_mse.ipynb").write_bytes(notebook(
        "import torch\nweights = torch.ones(3)\n",
        "def mse_loss(input, target, reduction='mean'):\n    return (weights * (input - target) ** 2).mean()\n"))
    eli = found(tmp_path)["eli"]
    assert "weights = " not in eli.files["ex01_mse.py"].decode()  # a tensor is not sent, as in lossgrade.check
    assert eli.notes == [("ex01_mse.ipynb: its functions use weights, which its cells compute rather than define "
                         "(def, import or a small constant): not graded with them"),
                         "graded ex01_mse.ipynb as ex01_mse.py (by its name)"]


def test_one_learners_folder_is_told_from_a_class_with_a_stray_file(tmp_path: Path) -> None:
    from lossgrade.grading.discover import looks_like_one_submission

    (tmp_path / "ada" / "exercises").mkdir(parents=True)
    (tmp_path / "ada" / "exercises" / "Ex01_MSE.py").write_bytes(MSE)
    assert looks_like_one_submission(tmp_path / "ada")
    (tmp_path / "ex01_mse.py").write_bytes(MSE)  # the instructor's own copy, beside the learners
    assert not looks_like_one_submission(tmp_path)
    assert discover(tmp_path).ignored == ["ex01_mse.py"]

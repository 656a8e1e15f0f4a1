"""The exports read plain result data: hostile text from learners (control characters, lone
surrogates, spreadsheet formulas) must come out as valid, harmless files."""
from __future__ import annotations

import csv
import json
from xml.etree import ElementTree

from lossgrade.output import gradebook, gradescope, junit
from lossgrade.grading.records import Record, dump, slug
from lossgrade.core.results import (
    CheckResult,
    ExerciseResult,
    Feedback,
    Outcome,
    QuizResult,
    Status,
    SubmissionResult,
)

NASTY = "printed \x00\x1b[2J and a lone \udc80 surrogate"


def record(learner: str, error: str | None = None, notes: list[str] | None = None) -> Record:
    checks = [
        CheckResult("ex01_mse.reductions[cpu]", "mse_loss matches", Outcome.FAILED,
                    Feedback("The result is wrong", call="mse_loss(x, y)", output=NASTY), weight=2.0),
        CheckResult("ex01_mse.shapes", "mse_loss works for every shape", Outcome.PASSED),
        CheckResult("ex01_mse.reductions[cuda]", "mse_loss matches", Outcome.SKIPPED, Feedback("no CUDA")),
    ]
    exercise = ExerciseResult("ex01", "Mean squared error", Status.FAILED, 3.33, 10.0, checks)
    quiz = QuizResult("logits", "Logits", 0.0, 10.0, error=None)
    return Record(learner, f"{learner}/", "digest", "fingerprint", SubmissionResult(learner, [exercise], [quiz], error),
                  notes or [])


def test_csv_cells_a_spreadsheet_could_run_are_neutralised() -> None:
    text = gradebook.to_csv([record("ada", notes=["=HYPERLINK(\"http://x\")"])], [])
    rows = list(csv.reader(text.splitlines()))
    assert rows[1][rows[0].index("status")] == "warning: =HYPERLINK(\"http://x\")"
    text = gradebook.to_csv([record("bo", error="=cmd|' /C calc'!A0")], [])
    rows = list(csv.reader(text.splitlines()))
    assert rows[1][rows[0].index("status")].startswith("error: =cmd")
    assert gradebook._cell("=1+1") == "'=1+1" and gradebook._cell("-2") == "'-2"


def test_json_and_gradescope_survive_lone_surrogates() -> None:
    data = json.loads(gradebook.to_json([record("ada")], []))
    output = data["records"][0]["checks"][0]["feedback"]["output"]
    assert "\udc80" not in output and "surrogate" in output
    results = gradescope.results(record("ada"))
    assert "\udc80" not in dump(results)  # the file can be written
    tests = results["tests"]
    assert [t["max_score"] for t in tests[:2]] == [6.6667, 3.3333]  # shares by weight; skipped checks left out
    assert tests[0]["name"] == "ex01 · mse_loss matches [cpu]" and tests[0]["status"] == "failed"
    assert "Call: mse_loss(x, y)" in tests[0]["output"]
    assert results["score"] == 3.33


def test_junit_is_valid_xml_whatever_the_learner_printed() -> None:
    root = ElementTree.fromstring(junit.to_xml([record("ada"), record("bo", error="corrupt zip")]))
    assert root.get("tests") == "6" and root.get("failures") == "2" and root.get("skipped") == "2"
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and "\ufffd[2J" in (failure.text or "")


def test_learner_file_names_are_safe_and_stable() -> None:
    assert slug("ada") == "ada"
    assert slug("Ada").startswith("Ada-") and slug("Ada") != slug("ADA")
    assert slug("../../etc") == f"etc-{slug('../../etc')[-8:]}"
    assert slug("con").startswith("con-") and slug("caf\\xe9").startswith("caf-xe9-")


def test_a_learners_files_written_as_graded_equal_those_written_with_the_rest(tmp_path) -> None:
    """`lossgrade grade` writes each learner's Gradescope file and report as the learner is
    graded (`write_learner_files`); byte for byte what `write_all` writes for them."""
    import datetime

    from lossgrade.grading.records import Batch
    from lossgrade.output import exports

    ada = record("ada", notes=["graded ex01 (1).py as ex01_mse.py (by its name)"])
    ada.ignored["notes.txt"] = "not an exercise file or quiz answers"
    learners = [ada, record("bo", error="its zip could not be read"), record("Cy Ö")]
    batch = Batch(learners, [])
    now = datetime.datetime(2026, 12, 5, tzinfo=datetime.timezone.utc)
    for one in learners:
        exports.write_learner_files(tmp_path / "early", one, now)
    exports.write_all(tmp_path / "early", batch, now=now, written={r.learner for r in learners})
    exports.write_all(tmp_path / "late", batch, now=now)

    def files(root):
        return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    early, late = files(tmp_path / "early"), files(tmp_path / "late")
    assert early == late and len(early) == 2 + 3 + 3 + 1  # gradebooks, Gradescope files, reports, class report
    assert b"notes.txt" in early[next(p for p in early if p.parts[0] == "learners" and "ada" in p.name)]

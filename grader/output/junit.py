"""JUnit XML for CI dashboards: a test suite per learner, a test case per check and per
quiz question, with the feedback as the failure's text.

Learner output can hold characters that XML 1.0 cannot (NUL, escape codes): they become
U+FFFD, so every report parses.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from lossgrade.output.gradescope import check_text
from lossgrade.grading.records import Record
from lossgrade.core.results import Outcome

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean(text: str) -> str:
    return _ILLEGAL.sub("\ufffd", text)


def to_xml(records: Sequence[Record]) -> str:
    root = ET.Element("testsuites", name="lossgrade")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for record in records:
        suite = ET.SubElement(root, "testsuite", name=_clean(record.learner))
        counts = dict.fromkeys(totals, 0)
        for exercise in record.result.exercises:
            classname = _clean(f"{record.learner}.{exercise.exercise}")
            if not exercise.checks:
                _case(suite, counts, classname, exercise.exercise, "passed" if exercise.status.value == "passed" else "failure",
                      exercise.error or exercise.status.value)
            for check in exercise.checks:
                kind = {Outcome.PASSED: "passed", Outcome.SKIPPED: "skipped", Outcome.ERROR: "error"}.get(check.outcome, "failure")
                _case(suite, counts, classname, check.id, kind, check_text(check))
        for quiz in record.result.quizzes:
            classname = _clean(f"{record.learner}.quiz.{quiz.quiz}")
            if quiz.error:
                _case(suite, counts, classname, quiz.quiz, "error", quiz.error)
            for question in quiz.questions:
                text = f"Given: {question.given}\nExpected: {question.expected}\nThe myth: {question.myth}\nThe reality: {question.reality}"
                _case(suite, counts, classname, question.id, "passed" if question.correct else "failure", text)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(suite: ET.Element, counts: dict[str, int], classname: str, name: str, kind: str, text: str) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=_clean(name))
    counts["tests"] += 1
    if kind == "passed":
        return
    counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[kind]] += 1
    detail = ET.SubElement(case, kind, message=_clean(text.splitlines()[0] if text else kind))
    if kind != "skipped":
        detail.text = _clean(text)

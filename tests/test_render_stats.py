"""The pure helpers behind the HTML reports: class statistics, the histogram's geometry,
a learner's next steps and safe file names, on the same sample class as the reports."""
from __future__ import annotations

from pathlib import Path

import pytest

from lossgrade.output import advice, charts, stats
from lossgrade.output.html import safe_file_names
from test_render_html import sample_class


@pytest.fixture(scope="module")
def results():
    return sample_class()


def test_next_steps_put_what_cannot_run_first_then_the_first_failure(results):
    bob, carol, dave = results[1:4]
    steps = advice.next_steps(bob)
    assert steps[0].startswith("Continue with ex01") and "`lossgrade check ex01`" in steps[0]
    assert "Bust the myth behind “Softmax before cross-entropy”: `lossgrade quiz logits`." in steps
    assert advice.next_steps(dave)[:2] == [
        "Fix the submission itself: the archive held two copies of ex01_mse.py; graded the newest",
        "Make ex01 run again (ex01_mse.py could not be imported: SyntaxError (line 12): invalid syntax), "
        "then run `lossgrade check ex01`.",
    ]
    assert advice.next_steps(carol)[0].startswith("Start ex01")
    assert advice.next_steps(results[0]) == [
        "Everything passes. Try `lossgrade quiz` to test the myths once more."]


def test_safe_file_names_resist_traversal_collisions_and_reserved_names():
    names = safe_file_names(["ana", "Ana", "..", "../ana", "con", "José", "", "a/b", "a-b", "."])
    assert names["ana"] == "ana.html" and names["a-b"] == "a-b.html"
    assert names["a/b"].startswith("a-b-") and names["Ana"].startswith("Ana-")
    assert len(set(n.casefold() for n in names.values())) == len(names)
    for name in names.values():
        assert "/" not in name and "\\" not in name and not name.startswith(".") and Path(name).name == name
    assert names["con"].startswith("con-") and names["José"].startswith("Jose-")


def test_stats_count_learners_once_and_skip_skipped_checks(results):
    summary = stats.summary(results)
    assert (summary.learners, summary.all_passed, summary.median_percent) == (5, 1, pytest.approx(100 / 6))
    rates = {s.exercise: (s.rate.passed, s.rate.total) for s in stats.exercise_stats(results)}
    assert rates == {"ex01": (1, 5), "ex03": (1, 4)}
    checks = {s.id: (s.rate.passed, s.rate.total) for s in stats.check_stats(results)}
    assert checks["ex01_mse.reductions[cpu]"] == (1, 4) and "ex01_mse.reductions[cuda]" not in checks
    assert checks["ex03_cross_entropy.logits"] == (1, 3)
    top = stats.misconception_stats(results)  # bob met sum-not-mean in two checks: one learner
    assert [(s.misconception.id, s.learners, s.exercises) for s in top] == [
        ("ex03.softmax-twice", 2, ["ex03"]), ("ex01.sum-not-mean", 1, ["ex01"]), ("xss", 1, ["ex01"])]
    missed = stats.question_stats(results)
    assert [(s.question.id, s.missed, s.answered) for s in missed] == [
        ("sum-vs-mean", 2, 3), ("q", 1, 1), ("scale", 1, 3)]


def test_histogram_geometry():
    chart = charts.histogram([0, 5, 50, 99.9, 100, 120, -3], bins=10)
    assert [bar.count for bar in chart.bars] == [3, 0, 0, 0, 0, 1, 0, 0, 0, 3]
    assert chart.bars[-1].label == "90–100%"
    tallest = chart.bars[0]
    assert tallest.y + tallest.height == chart.bottom and tallest.y >= chart.top
    assert [t.text for t in chart.x_ticks] == ["0%", "20%", "40%", "60%", "80%", "100%"]
    assert [t.text for t in chart.y_ticks] == ["0", "1", "2", "3"]
    assert charts.nice_step(0) == 1 and charts.nice_step(9) == 5 and charts.nice_step(130) == 50
    assert [t.text for t in charts.histogram([]).y_ticks] == ["0", "1"]


def test_stats_of_an_empty_class():
    assert stats.summary([]) == stats.ClassSummary(0, 0.0, 0.0, 0)
    assert stats.exercise_stats([]) == stats.check_stats([]) == stats.question_stats([]) == []


def test_a_question_not_answered_is_not_missed() -> None:
    from lossgrade.core.results import QuestionResult, QuizResult, SubmissionResult

    def learner(name: str, given: object, correct: bool) -> SubmissionResult:
        question = QuestionResult("sum-vs-mean", "Sum or mean?", correct, given, "16.0", "myth", "reality")
        return SubmissionResult(name, [], [QuizResult("loss-scales", "How losses scale", float(correct), 1.0, [question])])

    results = [learner(f"absent{i}", None, False) for i in range(6)]
    results += [learner("wrong", "4.0", False), learner("right", "16.0", True)]
    (stat,) = stats.question_stats(results)
    assert (stat.missed, stat.answered, stat.unanswered) == (1, 2, 6)
    assert stats.question_stats(results[:6]) == []  # nobody answered: nobody missed it

"""A check passed by the reference's very replies (checks/ahead.py, `Ahead.passes_by_replies`):
a learner whose replies to a check's whole plan are the reference's, byte for byte, passes
it without the check's code running again; any other learner (one byte off, a timeout, a
forbidden call carried from an ended worker) meets the check itself, which reads the
replies already read, in order, and says what it always said."""
from __future__ import annotations

import types

import pytest
import torch
from lossgrade.checks import ahead as ahead_module
from lossgrade.checks.ahead import Ahead, ahead, plan, replies
from lossgrade.checks.framework import CheckContext, Checks, Failure
from lossgrade.course import catalog
from lossgrade.grading import grader as grader_module
from lossgrade.grading import runner
from lossgrade.sandbox.learner import LearnerModule, Limits

REFERENCE = types.ModuleType("lossgrade_reference_replies_test")
exec("def f(x, k=1):\n    return x * 2\n", REFERENCE.__dict__)  # noqa: S102 - our own reference

checks = Checks("replies_test")
RAN: list[str] = []  # the checks whose code ran


@checks.add("f doubles, five times")
def five(t: CheckContext) -> None:
    RAN.append("five")
    for k in range(1, 6):
        t.expect_close("f", t.randn(3), k=k)


@checks.add("f doubles, then a driver nobody can plan")
def then_a_driver(t: CheckContext) -> None:
    t.expect_close("f", t.randn(3))
    t.expect_close("f", t.randn(3), k=2)
    t.learner.drive("values", function="f", calls=[[t.randn(3)]])


NOISY = types.ModuleType("lossgrade_reference_replies_noisy")
exec("import torch\ndef f(x, k=1):\n    return x * 2 + torch.rand(()) * 1e-6\n", NOISY.__dict__)  # noqa: S102


def run(check, learner, reference=REFERENCE):
    """As `Grader.run_check` does: the replies first, then the check where they do not decide."""
    ahead_module._met_before(check, reference, "cpu")  # as for every learner after a class's first
    sent = ahead(check, learner, reference, ("f",), "cpu")
    failure = None
    try:
        if not (isinstance(sent, Ahead) and sent.passes_by_replies()):
            check.run(CheckContext(check, sent, reference, "cpu"))
    except Failure as exc:
        failure = exc
    if isinstance(sent, Ahead):
        sent.finish()
    return sent, failure


def learner_of(sandbox, body: str, limits: Limits | None = None) -> LearnerModule:
    return LearnerModule(sandbox, "m", {"m.py": "import time, torch\n" + body}, ("f",), (), limits)


def test_the_replies_are_kept_only_for_a_plan_that_is_the_whole_of_a_passed_check():
    assert replies(five_check(), REFERENCE, "cpu") is None or True  # until planned: nothing (or an earlier test's)
    assert len(plan(five_check(), REFERENCE, ("f",), "cpu")) == 5
    assert len(replies(five_check(), REFERENCE, "cpu") or ()) == 5
    assert len(plan(checks.all[1], REFERENCE, ("f",), "cpu")) == 2 and replies(checks.all[1], REFERENCE, "cpu") is None
    # The same calls in both runs, but other bytes in reply: the plan stands, the replies decide nothing.
    assert len(plan(five_check(), NOISY, ("f",), "cpu")) == 5 and replies(five_check(), NOISY, "cpu") is None


def five_check():
    return checks.all[0]


def test_a_learner_whose_replies_are_the_references_passes_without_the_check_running(sandbox):
    learner = learner_of(sandbox, "def f(x, k=1):\n    return x * 2\n")
    try:
        RAN.clear()
        sent, failure = run(five_check(), learner)
        assert failure is None and RAN == [] and isinstance(sent, Ahead) and sent.used == 5
        assert learner.call("f", torch.ones(1)).kind == "tensor"  # the worker serves on, in step
    finally:
        learner.close()


def test_a_reply_one_bit_off_goes_to_the_check_which_reads_those_already_read(sandbox):
    """x + x is x * 2 bit for bit; adding 1e-6 at k=3 is not, yet within the check's tolerance."""
    learner = learner_of(sandbox, "def f(x, k=1):\n    return x + x + (1e-6 if k == 3 else 0.0)\n")
    try:
        RAN.clear()
        sent, failure = run(five_check(), learner)
        assert failure is None and RAN == ["five"] and sent.used == 5
    finally:
        learner.close()


def test_a_wrong_reply_fails_the_check_at_that_call(sandbox):
    learner = learner_of(sandbox, "def f(x, k=1):\n    return x * 3 if k == 3 else x * 2\n")
    try:
        RAN.clear()
        sent, failure = run(five_check(), learner)
        assert RAN == ["five"] and failure is not None and "k=3" in (failure.feedback.call or "")
        assert "wrong" in failure.feedback.message
    finally:
        learner.close()


def test_a_call_that_hangs_fails_the_check_as_a_timeout(sandbox):
    learner = learner_of(sandbox, "def f(x, k=1):\n    if k == 2:\n        time.sleep(30)\n    return x * 2\n",
                         Limits(call_seconds=1.0))
    try:
        sent, failure = run(five_check(), learner)
        assert failure is not None and "k=2" in (failure.feedback.call or "")
        assert "did not return" in failure.feedback.message
        assert learner.call("f", torch.ones(1)).kind == "tensor"  # a fresh worker
    finally:
        learner.close()


def test_a_forbidden_call_carried_from_an_ended_worker_is_never_passed_by_replies(sandbox):
    learner = learner_of(sandbox, "def f(x, k=1):\n    return x * 2\n")
    try:
        learner.restart(carry=("torch.nn.functional.mse_loss",))
        RAN.clear()
        sent, failure = run(five_check(), learner)
        assert RAN == ["five"] and failure is not None and "mse_loss" in failure.feedback.message
    finally:
        learner.close()


def test_a_learner_who_prints_meets_the_check(sandbox):
    """Printed output travels in the reply: its bytes are not the reference's."""
    learner = learner_of(sandbox, "def f(x, k=1):\n    print(k)\n    return x * 2\n")
    try:
        RAN.clear()
        _, failure = run(five_check(), learner)
        assert failure is None and RAN == ["five"]
    finally:
        learner.close()


@pytest.mark.parametrize("source, passes", [
    (None, True),  # the reference solution itself
    ("def mse_loss(input, target, reduction='mean'):\n    return ((input - target) ** 2).sum()\n", False),
])
def test_through_the_grader_the_same_results_with_or_without_the_check_running(sandbox, monkeypatch, source, passes):
    """The real grader, ex01: checks pass by their replies alone once planned, and every
    result is the one the checks themselves give (their code made to run every time)."""
    exercise = catalog.resolve("ex01")
    text = exercise.solution_path.read_text(encoding="utf-8") if source is None else source
    runner.grade_exercise(sandbox, exercise, {exercise.file: text})  # every check planned in this process
    ran: list[str] = []
    original = grader_module.CheckContext

    def counted(check, *rest):
        ran.append(check.id)
        return original(check, *rest)

    monkeypatch.setattr(grader_module, "CheckContext", counted)
    by_replies = runner.grade_exercise(sandbox, exercise, {exercise.file: text})
    ran_by_replies, ran[:] = list(ran), []
    monkeypatch.setattr(Ahead, "passes_by_replies", lambda self: False)
    by_checks = runner.grade_exercise(sandbox, exercise, {exercise.file: text})
    assert [(c.id, c.outcome, c.feedback) for c in by_replies.checks] == \
        [(c.id, c.outcome, c.feedback) for c in by_checks.checks]
    assert (by_replies.score == exercise.points) is passes
    assert len(ran) == len(exercise_checks(exercise))  # every check's code ran
    failed = {c.id.removesuffix("[cpu]") for c in by_replies.checks if c.outcome.value == "failed"}
    assert failed <= set(ran_by_replies)  # a check that failed ran
    if passes:
        assert len(ran_by_replies) < len(ran) / 2  # most passed by their replies alone


def exercise_checks(exercise):
    from lossgrade import course

    return course.current().checks(exercise).all

"""A check's calls sent ahead in one request (checks/ahead.py): the check reads each reply
only for the very call it planned, stops the worker after the first failing call and
still names the mistake; a forbidden call the worker met on a call nobody read taints no
later check; a call off the plan goes as always."""
from __future__ import annotations

import time
import types

import pytest
import torch
from lossgrade.checks import ahead as ahead_module
from lossgrade.checks.ahead import Ahead, ahead, plan, same
from lossgrade.checks.framework import CheckContext, Checks, Failure
from lossgrade.sandbox import _wire
from lossgrade.sandbox.connection import STOP_FRAME
from lossgrade.sandbox.learner import LearnerModule, call_request

REFERENCE = types.ModuleType("lossgrade_reference_ahead_test")
exec("def f(x, k=1):\n    return x * 2\n", REFERENCE.__dict__)  # noqa: S102 - our own reference

checks = Checks("ahead_test")


@checks.add("f doubles, five times")
def five(t: CheckContext) -> None:
    for k in range(1, 6):
        t.expect_close("f", t.randn(3), k=k)


@checks.add("f doubles, on inputs nobody can plan")
def unplannable(t: CheckContext) -> None:
    for k in range(1, 4):
        t.expect_close("f", torch.randn(3), k=k)  # not from the check's generator: differs between runs


LEARNER = """
import time, torch
calls = []

def f(x, k=1):
    calls.append(k)
    if k == 3:
        return x * 3  # the mistake
    if k >= 4:
        torch.nn.functional.mse_loss(x, x)  # forbidden: met only on calls after the failing one
    return x * 2

def count(x, k=1):
    return torch.tensor(float(len(calls)))
"""


def run(check, learner, reference=REFERENCE):
    ahead_module._met_before(check, reference, "cpu")  # as for every learner after a class's first
    sent = ahead(check, learner, reference, ("f",), "cpu")
    failure = None
    try:
        check.run(CheckContext(check, sent, reference, "cpu"))
    except Failure as exc:
        failure = exc
    if isinstance(sent, Ahead):
        sent.finish()
    return sent, failure


def test_the_plan_is_the_calls_of_a_check_that_passes():
    planned = plan(checks.all[0], REFERENCE, ("f",), "cpu")
    assert [c["kwargs"]["k"] for c in planned] == [1, 2, 3, 4, 5]
    assert plan(checks.all[1], REFERENCE, ("f",), "cpu") == []  # the two runs disagree from the first call


def test_the_first_learner_a_process_grades_is_sent_each_call_alone_the_next_the_plan(sandbox):
    """A plan runs the reference twice: it pays only from a process's second learner on,
    never for a lone `lossgrade check`."""
    reference = types.ModuleType("lossgrade_reference_ahead_first")
    exec("def f(x, k=1):\n    return x * 2\n", reference.__dict__)  # noqa: S102 - our own reference
    planned_before = len(ahead_module._PLANS)
    first = LearnerModule(sandbox, "m", {"m.py": LEARNER}, ("f", "count"), ())
    second = LearnerModule(sandbox, "m", {"m.py": LEARNER}, ("f", "count"), ())
    try:
        alone = ahead(checks.all[0], first, reference, ("f",), "cpu")
        assert alone is first and len(ahead_module._PLANS) == planned_before  # nothing planned, nothing run
        sent = ahead(checks.all[0], second, reference, ("f",), "cpu")
        assert isinstance(sent, Ahead) and [c["kwargs"]["k"] for c in sent.planned] == [1, 2, 3, 4, 5]
    finally:
        first.close()
        second.close()


def test_stops_after_the_first_failing_call_names_it_and_leaves_no_taint(sandbox):
    learner = LearnerModule(sandbox, "m", {"m.py": LEARNER}, ("f", "count"), ("torch.nn.functional.mse_loss",))
    try:
        sent, failure = run(checks.all[0], learner)
        assert isinstance(sent, Ahead)
        assert failure is not None and "k=3" in (failure.feedback.call or "")
        assert "wrong" in failure.feedback.message
        # Calls 4 and 5 may have run ahead and met the forbidden call: forgotten, as no check
        # read them; the next check sees nothing of it.
        after = learner.call("count", torch.ones(1))
        assert after.kind == "tensor" and not after.violations
        assert after.value.item() in (3.0, 4.0, 5.0)  # the same worker, stopped soon after the failing call
    finally:
        learner.close()


def test_a_learner_who_is_right_passes_with_every_call_read(sandbox):
    learner = LearnerModule(sandbox, "m", {"m.py": "def f(x, k=1):\n    return x * 2\n"}, ("f",))
    try:
        sent, failure = run(checks.all[0], learner)
        assert failure is None and isinstance(sent, Ahead) and sent.used == 5
    finally:
        learner.close()


def test_a_call_off_the_plan_goes_as_always(sandbox):
    learner = LearnerModule(sandbox, "m", {"m.py": "def f(x, k=1):\n    return x * 2\n"}, ("f",))
    try:
        sent = Ahead(learner, plan(checks.all[0], REFERENCE, ("f",), "cpu"))
        first = sent.call_many([dict(sent.planned[0])])[0]
        other = sent.call("f", torch.ones(2), k=9)  # not the planned second call
        assert first.kind == other.kind == "tensor" and other.value.tolist() == [2.0, 2.0]
        assert sent.stream is None and sent.used == 1
    finally:
        learner.close()


def test_the_worker_skips_the_calls_it_has_not_begun_once_told_to_stop(sandbox):
    source = "import time\ndef f(x):\n    time.sleep(0.3)\n    return x\n"
    learner = LearnerModule(sandbox, "m", {"m.py": source}, ("f",))
    try:
        stream = learner.stream([call_request("f", (torch.ones(1),), {}) for _ in range(10)])
        assert stream is not None and stream.next().kind == "tensor"
        started = time.monotonic()
        rest = stream.stop()
        assert time.monotonic() - started < 1.5  # not the 2.7 s that nine more calls take
        assert len(rest) == 9 and any(r.message.startswith("skipped") for r in rest)
        assert learner.call("f", torch.ones(1)).kind == "tensor"  # the same worker serves on, in step
    finally:
        learner.close()


def test_the_stop_frame_is_a_stop_request():
    assert _wire.decode_request(STOP_FRAME[8:]) == {"op": "stop"}


@pytest.mark.parametrize("a, b, equal", [
    (0.0, -0.0, False), (float("nan"), float("nan"), True), (1, 1.0, False), ((1,), [1], False),
    (torch.tensor([0.0]), torch.tensor([-0.0]), False), (torch.tensor([float("nan")]), torch.tensor([float("nan")]), True),
    (torch.ones(2), torch.ones(2, dtype=torch.float64), False), (torch.ones(2, 2), torch.ones(2, 2).t(), False),
    (torch.ones(2), torch.ones(2).requires_grad_(), False), (torch.zeros(0), torch.zeros(0), True),
])
def test_same_is_bit_for_bit(a, b, equal):
    assert same(a, b) is equal


def test_in_process_learners_are_left_as_they_are():
    from lossgrade.sandbox.inprocess import InProcessLearner

    learner = InProcessLearner(REFERENCE, ("f",))
    assert ahead_module.ahead(checks.all[0], learner, REFERENCE, ("f",), "cpu") is learner


def test_a_call_that_hangs_after_the_stop_ends_the_worker_and_counts_against_the_budget(sandbox):
    from lossgrade.sandbox.budget import submission_budget
    from lossgrade.sandbox.connection import STOP_SECONDS

    source = "import time\ndef f(x, k=1):\n    if k > 1:\n        time.sleep(30)\n    return x\n"
    learner = LearnerModule(sandbox, "m", {"m.py": source}, ("f",))
    try:
        with submission_budget(60.0) as budget:
            stream = learner.stream([call_request("f", (torch.ones(1),), {"k": k}) for k in range(1, 5)])
            assert stream is not None and stream.next().kind == "tensor"
            started = time.monotonic()
            rest = stream.stop()
            assert time.monotonic() - started < STOP_SECONDS + 2
            skipped = all(r.message.startswith("skipped") for r in rest)  # the stop came before call 2 began
            assert budget is not None and (skipped or budget.used >= STOP_SECONDS * 0.9)
        assert learner.call("f", torch.ones(1)).kind == "tensor"  # a fresh worker, or the same one in step
    finally:
        learner.close()


def test_a_forbidden_call_the_check_read_still_taints_every_later_reply(sandbox):
    source = LEARNER.replace("if k >= 4:", "if k >= 2:")
    learner = LearnerModule(sandbox, "m", {"m.py": source}, ("f", "count"), ("torch.nn.functional.mse_loss",))
    try:
        _, failure = run(checks.all[0], learner)
        assert failure is not None and "mse_loss" in failure.feedback.message
        assert learner.call("count", torch.ones(1)).violations  # as when each call went on its own
    finally:
        learner.close()

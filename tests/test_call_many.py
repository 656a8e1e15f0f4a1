"""Several calls in one request (`LearnerModule.call_many`, the worker's "calls" op, used
where a check needs many values, such as ex09's finite differences): one reply per call, in
order, from one worker; a call that hangs or crashes stands for the rest; once a function
turns out not to be written yet, the rest are not run."""
from __future__ import annotations

import pytest
import torch
from lossgrade.sandbox.client import Limits
from lossgrade.sandbox.learner import LearnerModule, call_request
from lossgrade.sandbox.replies import Reply

SOURCE = """
import os, time, torch
calls = []

def f(x, mode="ok"):
    calls.append(mode)
    if mode == "hang":
        time.sleep(60)
    if mode == "crash":
        os._exit(3)
    if mode == "stub":
        raise NotImplementedError
    if mode == "count":
        return torch.tensor(float(len(calls)))
    return x * 2
"""


def call_all(sandbox, modes: list[str], limits: Limits | None = None) -> list[Reply]:
    learner = LearnerModule(sandbox, "m", {"m.py": SOURCE}, ("f",), limits=limits)
    try:
        return learner.call_many([call_request("f", (torch.ones(2),), {"mode": mode}) for mode in modes])
    finally:
        learner.close()


def test_each_call_gets_its_reply_in_order_from_one_worker(sandbox):
    replies = call_all(sandbox, ["ok", "count", "ok", "count"])
    assert [r.kind for r in replies] == ["tensor"] * 4
    assert replies[0].value.tolist() == [2.0, 2.0]
    assert (replies[1].value.item(), replies[3].value.item()) == (2.0, 4.0)  # run in turn, in one worker


@pytest.mark.parametrize("mode, kind", [("hang", "timeout"), ("crash", "crashed")])
def test_a_call_that_never_answers_stands_for_the_rest(sandbox, mode, kind):
    replies = call_all(sandbox, ["ok", mode, "ok", "ok"], limits=Limits(call_seconds=1.0))
    assert replies[0].kind == "tensor"
    assert [r.kind for r in replies[1:]] == [kind] * 3


def test_after_a_function_not_written_yet_the_rest_are_not_run(sandbox):
    replies = call_all(sandbox, ["ok", "stub", "count", "count"])
    assert replies[0].kind == "tensor"
    assert all(r.not_implemented for r in replies[1:])


def test_a_missing_function_is_answered_without_the_worker(sandbox):
    learner = LearnerModule(sandbox, "m", {"m.py": SOURCE}, ("f", "g"))
    try:
        replies = learner.call_many([call_request("g", (torch.ones(1),), {}), call_request("f", (torch.ones(1),), {})])
    finally:
        learner.close()
    assert (replies[0].kind, replies[0].message) == ("error", "your file has no function named g")
    assert replies[1].kind == "tensor"

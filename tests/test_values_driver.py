"""The `values` driver (sandbox/_drivers.py): many numbers of one learner function from one
request, as ex09's gradcheck needs them for finite differences, and the calls one by one,
exactly as before, wherever one of those numbers is not a plain one.

- The driver itself, in this process: the values of every call while each result is a
  one-element tensor of torch's own class that left its arguments as they were; the list
  ends at the first call that is not (raises, returns a Python number or a longer tensor or
  a subclass, changes an argument in place).
- Through the real sandbox: a CrossEntropyFunction that is right on every call the other
  checks make, and goes wrong only on gradcheck's nudged logits, is failed by gradcheck
  with the feedback of the call one by one (what went wrong and where), never a driver's.
"""
from __future__ import annotations

import types

import pytest
import torch

from lossgrade.core.results import Outcome
from lossgrade.sandbox import _drivers


def _module(function):
    return types.SimpleNamespace(f=function)


CALLS = [[torch.tensor([1.0, 2.0])], [torch.tensor([3.0, 4.0])], [torch.tensor([5.0, 6.0])]]


def test_every_value_while_every_result_is_a_one_element_tensor():
    report = _drivers.values(_module(lambda x: x.sum()), "f", CALLS)
    assert report == {"values": [3.0, 7.0, 11.0]}
    assert all(isinstance(v, float) for v in report["values"])


@pytest.mark.parametrize("wrong, kept", [
    (lambda x: float(x.sum()), 0),  # a Python number, not a tensor
    (lambda x: x, 0),  # two elements
    (lambda x: x.sum() if x[0] < 4 else x.sum().as_subclass(torch.nn.Parameter), 2),  # a subclass
    (lambda x: x.sum() if x[0] < 2 else 1 / 0, 1),  # raised
    (lambda x: x.sum() if x[0] < 4 else x.add_(1).sum(), 2),  # changed its argument in place
    (lambda x: x.sum() if x[0] < 4 else x.resize_(1).sum(), 2),  # changed its argument's shape in place
], ids=["python-number", "two-elements", "subclass", "raised", "in-place", "resized"])
def test_the_list_ends_at_the_first_call_that_is_not_a_plain_number(wrong, kept):
    assert _drivers.values(_module(wrong), "f", CALLS) == {"values": [3.0, 7.0, 11.0][:kept]}


def test_calls_still_running_when_its_time_is_up_are_left_to_the_grader(monkeypatch):
    """The driver stops after VALUES_SECONDS in all (a slow or endless call is left to the
    grader, which makes it on its own under its own timeout) and leaves no timer and no
    signal handler of its own behind."""
    import signal
    import time

    monkeypatch.setattr(_drivers, "VALUES_SECONDS", 0.3)
    handler = signal.getsignal(signal.SIGALRM)

    def slow(x):
        time.sleep(0.2)
        return x.sum()

    report = _drivers.values(_module(slow), "f", CALLS)
    assert report == {"values": [3.0]}
    assert signal.getsignal(signal.SIGALRM) is handler and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)

    def endless(x):
        while True:
            pass

    assert _drivers.values(_module(endless), "f", CALLS) == {"values": []}
    assert signal.getsignal(signal.SIGALRM) is handler and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)

    def swallows(x):  # a bare except around slow work: the time's end is swallowed, and a value made up
        try:
            time.sleep(0.2)
        except BaseException:  # noqa: BLE001
            return torch.tensor(99.0)
        return x.sum()

    assert _drivers.values(_module(swallows), "f", CALLS) == {"values": [3.0]}


def test_each_call_gets_arguments_of_its_own():
    seen = []

    def f(x):
        seen.append(x)
        return x.sum()

    _drivers.values(_module(f), "f", [[CALLS[0][0]]] * 2)
    assert seen[0] is not seen[1] and seen[0] is not CALLS[0][0]


CORRECT_FUNCTION = '''
import torch

def focal_loss(input, target, gamma=2.0, alpha=None, reduction="mean"):
    raise NotImplementedError

class CrossEntropyFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        ctx.save_for_backward(log_probs, target)
        loss = -log_probs[torch.arange(len(target)), target].mean()
        return WRONG_ON_PROBES

    @staticmethod
    def backward(ctx, grad_output):
        log_probs, target = ctx.saved_tensors
        grad = log_probs.exp()
        grad[torch.arange(len(target)), target] -= 1
        return grad * grad_output / len(target), None
'''

# gradcheck's nudged logits: a float64 call whose logits differ from an earlier call's in
# one entry, by 2e-6 (x + eps e_i after x - eps e_i is not it: x - eps e_i comes second).
# These forwards go wrong from the third such call on, and only there.
PROBES = '''
SEEN = []
PROBED = []

def _probe(logits):
    if logits.dtype != torch.float64 or logits.requires_grad:
        return False
    now = logits.detach().clone()
    nudged = any(earlier.shape == now.shape and int((earlier != now).sum()) == 1
                 and float((earlier - now).abs().max()) < 1e-5 for earlier in SEEN)
    SEEN.append(now)
    if nudged:
        PROBED.append(1)
    return len(PROBED) > 2
'''


@pytest.mark.parametrize("wrong, feedback", [
    ("float(loss) if _probe(logits) else loss", "should return a 0-d tensor"),
    ("(logits.add_(1.0), loss)[1] if _probe(logits) else loss", "changed a tensor it was given in place"),
    ("loss.reshape(1).expand(2) if _probe(logits) else loss", "should return a 0-d tensor"),
], ids=["python-number", "in-place", "two-elements"])
def test_gradcheck_says_what_one_call_did_wrong_as_before(grade_source, wrong, feedback):
    source = CORRECT_FUNCTION.replace("WRONG_ON_PROBES", wrong).replace("import torch\n", "import torch\n" + PROBES, 1)
    result = grade_source("ex09", source)
    by_id = {c.id: c for c in result.checks}
    assert by_id["ex09_custom.function_backward[cpu]"].outcome is Outcome.PASSED
    gradcheck = by_id["ex09_custom.function_gradcheck"]
    assert gradcheck.outcome is Outcome.FAILED, gradcheck.feedback
    assert feedback in (gradcheck.feedback.message + (gradcheck.feedback.got or "")), gradcheck.feedback
    assert "CrossEntropyFunction.apply" in (gradcheck.feedback.call or "")


def test_a_right_function_slow_on_the_nudged_logits_passes_gradcheck(grade_source):
    """Slow enough (~0.1 s a call) that the driver's second is up before its last call: the
    grader makes the rest one by one, and the finite differences are the same numbers."""
    slow = "(_slowly(), loss)[1] if _probe(logits) else loss"
    helper = "\ndef _slowly():\n    x = torch.ones(400, 400)\n    for _ in range(20):\n        x = x @ x / 400\n"
    source = CORRECT_FUNCTION.replace("WRONG_ON_PROBES", slow).replace("import torch\n", "import torch\n" + PROBES + helper, 1)
    result = grade_source("ex09", source)
    gradcheck = next(c for c in result.checks if c.id == "ex09_custom.function_gradcheck")
    assert gradcheck.outcome is Outcome.PASSED, gradcheck.feedback


def test_a_right_function_passes_gradcheck_through_the_driver(grade_source):
    result = grade_source("ex09", CORRECT_FUNCTION.replace("WRONG_ON_PROBES", "loss"))
    by_id = {c.id: c for c in result.checks}
    assert by_id["ex09_custom.function_gradcheck"].outcome is Outcome.PASSED


def test_gradcheck_reads_its_finite_differences_from_the_driver(monkeypatch):
    from conftest import grade_inprocess

    from lossgrade.sandbox import inprocess

    asked = []

    def values(module, function, calls):
        report = _drivers.values(module, function, calls)
        asked.append((function, len(calls), len(report["values"])))
        return report

    monkeypatch.setitem(inprocess._WORKER.DRIVERS, "values", values)
    result = grade_inprocess("ex09", {})  # the reference's own functions
    gradcheck = next(c for c in result.checks if c.id == "ex09_custom.function_gradcheck")
    assert gradcheck.outcome is Outcome.PASSED
    # the three cases' logits: 3 x 4, 1 x 5 and 4 x 3, two calls for each logit
    assert asked == [("CrossEntropyFunction.apply", 24, 24), ("CrossEntropyFunction.apply", 10, 10),
                     ("CrossEntropyFunction.apply", 24, 24)]


def test_the_calls_the_driver_had_no_time_for_are_made_one_by_one(monkeypatch):
    """In this process: with 30 ms for the driver and each forward taking ~10 ms, the driver
    gives the first few values and the check makes the others as calls; gradcheck passes,
    so the finite differences are the same numbers either way."""
    import time

    from conftest import grade_inprocess

    from lossgrade.grading import runner
    from lossgrade.course import catalog
    from lossgrade.sandbox import inprocess

    reference = runner.reference(catalog.resolve("ex09")).CrossEntropyFunction

    class Slow(reference):  # type: ignore[misc, valid-type]
        @staticmethod
        def forward(ctx, logits, target):
            time.sleep(0.01)
            return reference.forward(ctx, logits, target)

    asked = []

    def values(module, function, calls):
        report = _drivers.values(module, function, calls)
        asked.append((len(calls), len(report["values"])))
        return report

    monkeypatch.setattr(_drivers, "VALUES_SECONDS", 0.03)
    monkeypatch.setitem(inprocess._WORKER.DRIVERS, "values", values)
    result = grade_inprocess("ex09", {"CrossEntropyFunction": Slow})
    gradcheck = next(c for c in result.checks if c.id == "ex09_custom.function_gradcheck")
    assert gradcheck.outcome is Outcome.PASSED, gradcheck.feedback
    assert [wanted for wanted, _ in asked] == [24, 10, 24]
    assert all(0 < given < wanted for wanted, given in asked), asked

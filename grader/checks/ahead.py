"""A check's calls sent ahead, in one request, and stopped after the first that fails.

A check's inputs come from its seeded generator (secret.py), so every learner meets the
same calls, in the same order, for as long as the check goes on: as long as every reply is
right. Those calls are found once per grader process, by running the check against the
reference solution in this process (twice: calls that differ between the two runs are
never planned). For each learner, the check's first call then sends them all to the worker
as one request, and the worker answers each in turn while the grader compares the replies
it has; the check reads each reply only when it makes the call, and only if the call is
exactly the planned one (every tensor's dtype, shape and bits): anything else, and every
call after it, goes to the worker as it always did. When the check ends (passed, failed,
not started), the worker is told to stop, skips the calls it has not begun and answers the
rest at once: a learner's code runs at most a few calls past the one that failed, never
changes what the check sees, and a forbidden call met on one of those calls is forgotten
(the worker keeps the violations of the replies read, which taint every later reply as they
always did; one that cannot is replaced, those violations carried on). Replies are checked against the calls exactly as
before (`Checked`), and nothing of the reference's reaches the worker: only its inputs.

Saves a round trip per call (~0.3 ms of the grader's and the worker's CPU), ~500 per
submission of the benchmark's class.

Where the plan is the whole check and the reference passed it, the bytes of the reference's
reply to each planned call are kept too (`replies`; both runs must have given the same
bytes). A learner whose replies to the plan are those very bytes passes the check without
its code running again (`Ahead.passes_by_replies`): a check's verdict depends on its seeded
inputs and on the replies it reads, nothing else (what a check must be for its plan to mean
anything), and reading these bytes is reading what it read when the reference passed. The
grader trusts the worker no more for it: bytes a learner's code forged are judged the same
either way. Any other reply (one bit off, printed output, a timeout, a forbidden call) ends
the comparison there, and the check runs as always, reading the replies already read, in
order, before the rest; a learner with violations carried from an ended worker meets the
check itself. A check that expects a raise is in practice never decided so: its reply holds the
learner's own traceback. Saves the check's own code (~45% of the grader's CPU on the
benchmark's class, whose right answers are mostly the reference's bit for bit).
"""
from __future__ import annotations

import struct
from collections import deque
from types import ModuleType
from typing import TYPE_CHECKING, Any

import torch

from lossgrade.core.memo import tensor_key
from lossgrade.sandbox.learner import LearnerModule, call_request
from lossgrade.sandbox.replies import Reply, validate

if TYPE_CHECKING:
    from lossgrade.checks.framework import Check, Learner
    from lossgrade.sandbox.connection import Stream
    from lossgrade.sandbox.inprocess import InProcessLearner

_PLANS: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
_REPLIES: dict[tuple[Any, ...], tuple[bytes, ...]] = {}  # a plan's replies, byte for byte, where they decide (see replies)
_REQUESTS: dict[int, tuple[list[dict[str, Any]], bytes]] = {}  # id(plan) -> (the plan, its request's bytes)
_MET: set[tuple[Any, ...]] = set()  # the checks run for a learner so far (see _met_before)
MIN_CALLS = 2  # a check of one call gains nothing


def ahead(check: Check, learner: Learner, reference: ModuleType, functions: tuple[str, ...], device: str) -> Learner:
    """`learner` with the check's planned calls sent ahead; `learner` itself where there is
    no plan or no worker (our own modules, in-process)."""
    if not isinstance(learner, LearnerModule) or not _met_before(check, reference, device):
        return learner
    planned = plan(check, reference, functions, device)
    expected = replies(check, reference, device)
    return Ahead(learner, planned, expected) if len(planned) >= MIN_CALLS or expected else learner


def _key(check: Check, reference: ModuleType, device: str) -> tuple[Any, ...]:
    """What a plan depends on: the check, the device, its seed (the grading secret's) and the reference."""
    from lossgrade.checks import secret

    return (check.id, device, secret.seed(check.id), reference.__name__, id(reference))


def _met_before(check: Check, reference: ModuleType, device: str) -> bool:
    """Whether this process has run `check` for a learner before: a plan (the reference run
    twice) pays for itself from the second learner on, never for a lone `lossgrade check`."""
    key = _key(check, reference, device)
    if key in _MET:
        return True
    _MET.add(key)
    return False


def plan(check: Check, reference: ModuleType, functions: tuple[str, ...], device: str) -> list[dict[str, Any]]:
    """The calls `check` makes on `device` while every reply is right: recorded from the
    reference, twice, kept up to the first call the two runs disagree on."""
    key = _key(check, reference, device)
    if key not in _PLANS:
        state = torch.get_rng_state()  # the reference's code runs here: it leaves this process as it was
        try:
            first, second = _record(check, reference, functions, device), _record(check, reference, functions, device)
        finally:
            torch.set_rng_state(state)
        agreed = 0
        while agreed < min(len(first.calls), len(second.calls)) and same(first.calls[agreed], second.calls[agreed]):
            agreed += 1
        _PLANS[key] = first.calls[:agreed]
        if first.passed and second.passed and agreed == len(first.calls) == len(second.calls) \
                and first.frames == second.frames:
            _REPLIES[key] = tuple(first.frames)
    return _PLANS[key]


def replies(check: Check, reference: ModuleType, device: str) -> tuple[bytes, ...] | None:
    """The bytes of the reference's reply to each call of the check's plan, where the plan
    is the whole check and the reference passed it (twice, with the same bytes): a learner
    whose replies are these, byte for byte, passes it too (`Ahead.passes_by_replies`)."""
    return _REPLIES.get(_key(check, reference, device))


def request_bytes(planned: list[dict[str, Any]]) -> bytes:
    """The "calls" request of a plan, encoded once per grader process: every learner is sent
    the same bytes (nothing touches a plan's tensors once it is recorded)."""
    from lossgrade.sandbox import _wire

    kept = _REQUESTS.get(id(planned))
    if kept is None or kept[0] is not planned:
        kept = _REQUESTS[id(planned)] = (planned, _wire.encode_request({"op": "calls", "calls": planned}))
    return kept[1]


def _record(check: Check, reference: ModuleType, functions: tuple[str, ...], device: str) -> _Recorder:
    from lossgrade.checks.framework import CheckContext
    from lossgrade.sandbox.inprocess import InProcessLearner

    recorder = _Recorder(InProcessLearner(reference, functions))
    try:
        check.run(CheckContext(check, recorder, reference, device))
        recorder.passed = True
    except Exception:  # noqa: BLE001 - the first call that cannot be planned, or a Skip: the calls so far are the plan
        pass
    return recorder


class _Unplannable(Exception):
    """The dry run goes no further: a driver (which would build models here) or a call that
    cannot be planned."""


class _Wrapper:
    """A learner around another, whose single calls go through `call_many`."""

    learner: Learner

    def load(self) -> Reply:
        return self.learner.load()

    def call(self, function: str, *args: Any, device: str = "cpu", grad_wrt: tuple[int, ...] = (),
             grad_output: Any = None, timeout: float | None = None, **kwargs: Any) -> Reply:
        return self.call_many([call_request(function, args, kwargs, device, grad_wrt, grad_output)], timeout)[0]

    def call_many(self, calls: list[dict[str, Any]], timeout: float | None = None) -> list[Reply]:
        raise NotImplementedError


class _Recorder(_Wrapper):
    """A learner that passes everything on, noting each call up to the first that cannot be
    planned (a driver, a timeout of its own, a tensor that is a view of another), and the
    bytes of each reply; `passed`: the check ran to its end."""

    def __init__(self, learner: InProcessLearner) -> None:
        self.learner: InProcessLearner = learner
        self.calls: list[dict[str, Any]] = []
        self.frames: list[bytes] = []
        self.passed = False

    def call_many(self, calls: list[dict[str, Any]], timeout: float | None = None) -> list[Reply]:
        for call in calls:
            if timeout is not None or not _plannable(call):
                raise _Unplannable
            self.calls.append(call)
        frames = self.learner.frames(calls)
        self.frames.extend(frames)
        return [validate(frame) for frame in frames]

    def drive(self, driver: str, timeout: float | None = None, **params: Any) -> Reply:
        raise _Unplannable

    def close(self) -> None:
        self.learner.close()


class Ahead(_Wrapper):
    """A learner module whose check's planned calls go to its worker in one request (see the
    module's docstring). `finish` once the check has ended."""

    def __init__(self, learner: LearnerModule, planned: list[dict[str, Any]],
                 expected: tuple[bytes, ...] | None = None) -> None:
        self.learner: LearnerModule = learner
        self.planned = planned
        self.expected = expected  # the reference's replies to the plan, where they decide (`replies`)
        self.used = 0  # planned calls whose reply the check has read
        self.stream: Stream | None = None
        self.early: deque[bytes | Reply] = deque()  # read by `passes_by_replies`, not yet by the check
        self.seen: tuple[str, ...] = ()  # the violations of the last reply read

    def passes_by_replies(self) -> bool:
        """Whether the learner's replies to the whole plan are the reference's, byte for
        byte (read now, in order, up to the first that is not): then the check passes
        without its code running again, since everything it would see is what it saw when
        the reference passed it (see the module's docstring). Else the replies read wait
        for the check, which reads them as it makes its calls."""
        if self.expected is None or self.stream is not None or self.learner.carried:
            return False
        stream = self._send()
        if stream is None:
            return False
        for expected in self.expected:
            got = stream.next_frame()
            self.early.append(got)
            if got != expected:  # other bytes, or a Reply saying why none came
                return False
        self.early.clear()
        self.used = len(self.planned)
        return True

    def call_many(self, calls: list[dict[str, Any]], timeout: float | None = None) -> list[Reply]:
        replies: list[Reply] = []
        for index, call in enumerate(calls):
            if self.used == 0 and self.stream is None and self.planned and timeout is None and same(call, self.planned[0], planned=True):
                self._send()
            if (self.stream is not None and (self.early or not self.stream.done) and timeout is None
                    and self.used < len(self.planned) and same(call, self.planned[self.used], planned=True)):
                got = self.early.popleft() if self.early else self.stream.next_frame()
                reply = self.learner.tainted(self.stream.reply_of(got))
                self.used += 1
                self.seen = reply.violations
                replies.append(reply)
                continue
            self.finish()  # off the plan: this call and every later one as always
            return replies + self.learner.call_many(calls[index:], timeout)
        return replies

    def _send(self) -> Stream | None:
        """The plan sent to the worker, as one request; None (and no plan) where the module
        did not load or lacks a function it calls: its calls then go as always."""
        self.stream = self.learner.stream(self.planned, request=request_bytes(self.planned))
        if self.stream is None:
            self.planned = []
        return self.stream

    def drive(self, driver: str, timeout: float | None = None, **params: Any) -> Reply:
        self.finish()
        return self.learner.drive(driver, timeout, **params)

    def finish(self) -> None:
        """Stop the worker's run ahead and read what it still owes. A forbidden call met on a
        call the check never read is forgotten: the worker keeps only the violations of the
        replies read (those taint every later reply, as they always did); a worker that
        cannot, or that had to be ended, is replaced, those violations carried on."""
        stream, self.stream, self.planned = self.stream, None, []
        early, self.early = [*self.early], deque()
        if stream is None:
            return
        if stream.failed is not None and not early:  # it ended on a call the check read, as it always would have
            self.learner.restart()
            return
        rest = [stream.reply_of(got) for got in early] + stream.stop()
        own = self.seen[len(self.learner.carried):]  # what this worker itself recorded
        if not self.learner._worker or not self.learner._worker.alive:  # ended running ahead
            self.learner.restart(self.seen)
        elif any(reply.violations != own for reply in rest):
            self.learner.forget(len(own), self.seen)

    def close(self) -> None:
        self.finish()
        self.learner.close()


# ---------------------------------------------------------------------- equal calls
def _plannable(call: dict[str, Any]) -> bool:
    return call.get("op") == "call" and all(_plain_tensor(t) for t in _tensors(call))


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item)]
    return []


def _plain_tensor(tensor: torch.Tensor) -> bool:
    """A dense tensor that owns its values in order: its bits say all a worker receives."""
    return (type(tensor) is torch.Tensor and tensor.layout == torch.strided and not tensor.is_quantized
            and tensor.is_contiguous() and tensor.storage_offset() == 0)


def same(a: Any, b: Any, planned: bool = False) -> bool:
    """Whether two calls (or parts of them) are the same call: equal plain values of the same
    types, tensors of the same dtype, shape, device, requires_grad and bits. `planned`: `b`
    is (part of) a call of a plan, whose tensors' keys are kept for the process's life."""
    kind = type(a)
    if kind is not type(b):
        return False
    # Containers and plain values before tensors: a call is mostly those, and isinstance of
    # torch.Tensor is the slow one. A container's plain items are compared in its own loop.
    if kind is dict or kind is list or kind is tuple or isinstance(a, (dict, list, tuple)):
        if len(a) != len(b):
            return False
        if isinstance(a, dict):
            if list(a) != list(b):
                return False
            pairs: Any = zip(a.values(), b.values())
        else:
            pairs = zip(a, b)
        for x, y in pairs:
            item = type(x)
            if item is not type(y):
                return False
            if item is str or item is int or item is bool or x is None:
                if x != y:
                    return False
            elif not same(x, y, planned):
                return False
        return True
    if kind is str or kind is int or kind is bool or a is None:
        return bool(a == b)
    if isinstance(a, torch.Tensor):
        return _same_tensor(a, b, planned)
    if isinstance(a, float):
        return struct.pack(">d", a) == struct.pack(">d", b)  # -0.0 is not 0.0, a NaN is itself
    return bool(a == b)


def _same_tensor(a: torch.Tensor, b: torch.Tensor, planned: bool) -> bool:
    """Same dtype, shape, device, requires_grad and bits (-0.0 is not 0.0, a NaN is itself),
    both plain: by their content keys (memo.py), which the reference memo reads next."""
    if not (_plain_tensor(a) and _plain_tensor(b)):
        return False
    if not planned:
        return tensor_key(a) == tensor_key(b)
    kept = _PLANNED_KEYS.get(id(b))
    if kept is None or kept[0] is not b:
        kept = _PLANNED_KEYS[id(b)] = (b, tensor_key(b))
    return tensor_key(a) == kept[1]


# A plan's tensors' content keys, by object: nothing touches a plan's tensors once it is
# recorded, and a plan is kept for the process's life (so are its tensors, held here too).
_PLANNED_KEYS: dict[int, tuple[torch.Tensor, Any]] = {}

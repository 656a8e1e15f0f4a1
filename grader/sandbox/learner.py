"""The grader's handle on one learner module running inside a sandbox worker.

Checks call the learner's functions only through this class. It (re)starts a worker when
needed, so a crash or a timeout in one check costs that check alone: the next request gets
a fresh worker with the module loaded again.
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lossgrade.sandbox.client import Limits, Sandbox
from lossgrade.sandbox.connection import Stream, Worker
from lossgrade.sandbox.replies import Reply


@dataclass
class _Handover:
    """The worker that one learner's last exercise left, for that learner's next one."""

    sandbox: Sandbox
    worker: Worker | None = None
    limits: Limits | None = None


_HANDOVER: contextvars.ContextVar[_Handover | None] = contextvars.ContextVar("lossgrade_handover", default=None)


@contextlib.contextmanager
def one_learner(sandbox: Sandbox) -> Iterator[None]:
    """Within this block, every module graded is one learner's (one submission's): each
    exercise's module goes to the worker the last exercise left, reset (see `Worker.reset`
    in _worker.py), instead of a fresh one, which costs a fork, a jail and an exit (~16 ms
    of CPU, and a submission has eight exercises). Only a worker that is still alive and,
    as the zygote sees it, one thread with no process below it is handed on; any other
    goes, and the next exercise gets a fresh one. Never across learners."""
    handover = _Handover(sandbox)
    token = _HANDOVER.set(handover)
    try:
        yield
    finally:
        _HANDOVER.reset(token)
        if handover.worker is not None:
            handover.worker.kill()


def call_request(function: str, args: tuple[Any, ...] | list[Any], kwargs: dict[str, Any], device: str = "cpu",
                 grad_wrt: tuple[int, ...] = (), grad_output: Any = None) -> dict[str, Any]:
    """One call, as a worker reads it: `function(*args, **kwargs)` with its tensors moved to
    `device` and, with `grad_wrt`, the gradients with respect to those positional arguments."""
    return {"op": "call", "function": function, "args": list(args), "kwargs": kwargs, "device": device,
            "grad_wrt": tuple(grad_wrt), "grad_output": grad_output}


def driver_name(module: str, driver: str) -> str:
    """How a worker names the driver `driver` of the exercise module `module` (from its
    course folder's `drivers/<module>.py`): "<module>/<driver>", which no built-in driver's
    name can be."""
    return f"{module}/{driver}"


class LearnerModule:
    def __init__(
        self,
        sandbox: Sandbox,
        module: str,
        files: dict[str, str],
        functions: tuple[str, ...],
        forbidden: tuple[str, ...] = (),
        limits: Limits | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.module = module
        self.files = files  # every learner file the module may import, by file name
        self.functions = functions
        self.forbidden = forbidden
        self.limits = limits or sandbox.limits
        self._worker: Worker | None = None
        self._loaded: Reply | None = None
        # The first tampering with the grader's machinery that any reply reported: it taints
        # the whole exercise (runner.run_checks), whatever the worker says afterwards.
        self.tampering: str | None = None
        self.carried: tuple[str, ...] = ()  # violations of an ended worker's replies (see `restart`)

    def _noted(self, reply: Reply) -> Reply:
        if self.tampering is None:
            self.tampering = next((v for v in reply.violations if "the grader's" in v), None)
        return reply

    def load(self) -> Reply:
        """Import the learner's module in a fresh worker; the reply says how it went."""
        if self._worker is not None and self._worker.alive and self._loaded is not None:
            return self._loaded
        self._worker = (self._handed_on() if self._worker is None else None) or self.sandbox.spawn(self.limits)
        reply = self._worker.request(
            {"op": "load", "files": self.files, "module": self.module,
             "functions": list(self.functions), "forbid": list(self.forbidden)},
            timeout=self.limits.call_seconds,
        )
        self._loaded = self._noted(reply)
        return reply

    @property
    def load_failed(self) -> bool:
        return self.load().kind != "loaded"

    def _request(self, message: dict[str, Any], timeout: float | None) -> Reply:
        loaded = self.load()
        if loaded.kind != "loaded":
            return loaded
        assert self._worker is not None
        reply = self.tainted(self._worker.request(message, timeout=timeout or self.limits.call_seconds))
        if not self._worker.alive:
            self._loaded, self.carried = None, ()  # the next request starts a fresh worker, untainted
        return reply

    def call(
        self,
        function: str,
        *args: Any,
        device: str = "cpu",
        grad_wrt: tuple[int, ...] = (),
        grad_output: Any = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Reply:
        """Call `function(*args, **kwargs)` in the worker with tensors moved to `device`;
        with `grad_wrt`, also the gradients with respect to those positional arguments."""
        return self.call_many([call_request(function, args, kwargs, device, grad_wrt, grad_output)], timeout)[0]

    def call_many(self, calls: list[dict[str, Any]], timeout: float | None = None) -> list[Reply]:
        """Several calls (each from `call_request`) in one request: the worker answers each in
        turn, as if each had come alone, without waiting for us in between; a reply for each."""
        loaded = self.load()
        if loaded.kind != "loaded":
            return [loaded] * len(calls)
        if any(c["function"] in loaded.missing for c in calls):  # answered here, the others sent one by one
            return [Reply(kind="error", message=f"your file has no function named {c['function']}")
                    if c["function"] in loaded.missing else self.call_many([c], timeout)[0] for c in calls]
        assert self._worker is not None
        replies = self._worker.exchange({"op": "calls", "calls": calls}, len(calls), timeout or self.limits.call_seconds)
        replies = [self.tainted(reply) for reply in replies]
        if not self._worker.alive:
            self._loaded, self.carried = None, ()  # the next request starts a fresh worker, untainted
        return replies

    def stream(self, calls: list[dict[str, Any]], timeout: float | None = None,
               request: bytes | None = None) -> Stream | None:
        """`calls` (each from `call_request`) in one request whose replies are read one at a
        time, as they are needed, and whose calls not yet begun the worker skips once told
        to stop (`Worker.stream`); None where the module did not load or lacks a function
        called (`call_many` answers those). `request`: the request's bytes, where the caller
        has them encoded already (a check's plan, the same for every learner)."""
        loaded = self.load()
        if loaded.kind != "loaded" or any(c["function"] in loaded.missing for c in calls):
            return None
        assert self._worker is not None
        return self._worker.stream({"op": "calls", "calls": calls}, len(calls), timeout or self.limits.call_seconds,
                                   request)

    def restart(self, carry: tuple[str, ...] = ()) -> None:
        """End the worker: the next request gets a fresh one, with the module loaded again;
        `carry`: the violations its replies had shown, which every later reply keeps showing
        (a violation taints the rest of the exercise, fresh worker or not)."""
        if self._worker is not None:
            self._worker.kill()
        self._loaded = None
        self.carried = tuple(carry)

    def forget(self, keep: int, carry: tuple[str, ...]) -> None:
        """Have the worker drop the violations recorded after its first `keep`: those of calls
        it ran ahead with that no check read (checks/ahead.py). A worker that does not do so
        is ended, its replies' violations so far (`carry`) carried on."""
        if self._worker is None or not self._worker.alive:
            self.restart(carry)
            return
        reply = self._worker.request({"op": "forget", "keep": keep}, timeout=self.limits.call_seconds)
        if (reply.kind, reply.value) != ("value", "forgot") or len(reply.violations) != keep:
            self.restart(carry)

    def tainted(self, reply: Reply) -> Reply:
        """`reply` with the violations carried over from an ended worker (see `restart`), its
        tampering noted (see `tampering`): every reply a check reads passes here."""
        if self.carried:
            reply = dataclasses.replace(reply, violations=self.carried + reply.violations)
        return self._noted(reply)

    def drive(self, driver: str, timeout: float | None = None, **params: Any) -> Reply:
        """Run a trusted driver beside the learner's module (for exercises whose functions
        take models and optimizers, not just tensors): one of `_drivers.py`, or a course's
        by its `driver_name`."""
        return self._request({"op": "drive", "driver": driver, "params": params}, timeout)

    def _handed_on(self) -> Worker | None:
        """The worker the learner's last exercise left, reset for this one, or None."""
        handover = _HANDOVER.get()
        if handover is None or handover.sandbox is not self.sandbox or handover.worker is None:
            return None
        worker, handover.worker = handover.worker, None
        if handover.limits != self.limits or not worker.alive or not self.sandbox.alone(worker.pid):
            worker.kill()
            return None
        reply = worker.request({"op": "reset"}, timeout=self.limits.call_seconds)
        if (reply.kind, reply.value) != ("value", "reset"):
            worker.kill()
            return None
        return worker

    def close(self) -> None:
        handover = _HANDOVER.get()
        if (handover is not None and handover.sandbox is self.sandbox and self._worker is not None
                and self._worker.alive):
            if handover.worker is not None:
                handover.worker.kill()
            handover.worker, handover.limits, self._worker = self._worker, self.limits, None
            return
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

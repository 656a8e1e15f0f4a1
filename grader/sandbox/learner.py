"""The grader's handle on one learner module running inside a sandbox worker.

Checks call the learner's functions only through this class. It (re)starts a worker when
needed, so a crash or a timeout in one check costs that check alone: the next request gets
a fresh worker with the module loaded again.
"""
from __future__ import annotations

from typing import Any

from lossgrade.sandbox.client import Limits, Sandbox, Worker
from lossgrade.sandbox.replies import Reply


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

    def _noted(self, reply: Reply) -> Reply:
        if self.tampering is None:
            self.tampering = next((v for v in reply.violations if "the grader's" in v), None)
        return reply

    def load(self) -> Reply:
        """Import the learner's module in a fresh worker; the reply says how it went."""
        if self._worker is not None and self._worker.alive and self._loaded is not None:
            return self._loaded
        self._worker = self.sandbox.spawn(self.limits)
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
        reply = self._noted(self._worker.request(message, timeout=timeout or self.limits.call_seconds))
        if not self._worker.alive:
            self._loaded = None  # the next request starts a fresh worker
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
        replies = [self._noted(r) for r in
                   self._worker.exchange({"op": "calls", "calls": calls}, len(calls), timeout or self.limits.call_seconds)]
        if not self._worker.alive:
            self._loaded = None  # the next request starts a fresh worker
        return replies

    def drive(self, driver: str, timeout: float | None = None, **params: Any) -> Reply:
        """Run a trusted driver beside the learner's module (for exercises whose functions
        take models and optimizers, not just tensors): one of `_drivers.py`, or a course's
        by its `driver_name`."""
        return self._request({"op": "drive", "driver": driver, "params": params}, timeout)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

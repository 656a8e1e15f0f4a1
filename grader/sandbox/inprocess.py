"""Run checks against a module in this very process, without a sandbox.

Never for learner code: this serves the project's own tests (the catalogued wrong
implementations are our code) and the benchmark that measures what the sandbox costs.
Requests go through the worker's own `execute` and the grader's own reply validation, so
a check sees exactly what it would see from a real worker.
"""
from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any, Callable

from lossgrade.sandbox import _wire, host
from lossgrade.sandbox.learner import call_request
from lossgrade.sandbox.replies import Reply, validate


def _worker_module() -> ModuleType:
    # The worker's sibling imports, as the zygote provides them.
    sys.modules.setdefault("_wire", _wire)
    sys.modules.setdefault("_drivers_loader", importlib.import_module("lossgrade.sandbox._drivers_loader"))
    sys.modules.setdefault("_results", importlib.import_module("lossgrade.sandbox._results"))
    spec = importlib.util.spec_from_file_location("lossgrade_inprocess_worker", host.WORKER_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_WORKER = _worker_module()
_RESULTS = sys.modules["_results"]  # what a call gave, as plain data (the worker's sibling)


class InProcessLearner:
    """The `LearnerModule` interface over a module object of ours."""

    def __init__(self, module: ModuleType, functions: tuple[str, ...],
                 drivers: dict[str, Callable[..., Any]] | None = None) -> None:
        self.module = module
        self.functions = functions
        # The built-in drivers and, by their `driver_name`, a course's (loaded in this process).
        self.drivers = {**_WORKER.DRIVERS, **(drivers or {})}

    def load(self) -> Reply:
        missing = [f for f in self.functions if not callable(getattr(self.module, f, None))]
        return Reply(kind="loaded", missing=tuple(missing))

    def _request(self, message: dict[str, Any]) -> Reply:
        return validate(self._frame(message))

    def _frame(self, message: dict[str, Any]) -> bytes:
        """The bytes a worker would send in reply to `message`."""
        try:
            reply = _WORKER.execute(self.module, self.drivers, message)
        except Exception as exc:  # noqa: BLE001 - reported like a worker would
            reply = _WORKER.describe_exception(exc, workdir="")
        return _WORKER.encode_reply(reply)

    def frames(self, calls: list[dict[str, Any]]) -> list[bytes]:
        """The bytes of a worker's reply to each call (`call_many` is their validation)."""
        missing = self.load().missing
        return [self._frame(c) if c["function"] not in missing else
                _WORKER.encode_reply({"kind": "error", "message": f"your file has no function named {c['function']}"})
                for c in calls]

    def call(self, function: str, *args: Any, device: str = "cpu", grad_wrt: tuple[int, ...] = (),
             grad_output: Any = None, timeout: float | None = None, **kwargs: Any) -> Reply:
        return self.call_many([call_request(function, args, kwargs, device, grad_wrt, grad_output)])[0]

    def call_many(self, calls: list[dict[str, Any]], timeout: float | None = None) -> list[Reply]:
        return [validate(frame) for frame in self.frames(calls)]

    def drive(self, driver: str, timeout: float | None = None, **params: Any) -> Reply:
        return self._request({"op": "drive", "driver": driver, "params": params})

    def close(self) -> None:
        pass

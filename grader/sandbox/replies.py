"""What a worker said, after the grader made sure it is plain data.

Worker replies are untrusted: they are loaded with `torch.load(weights_only=True)` (no code
can run), then every field is type-checked here. A reply that is not the shape we expect
becomes kind "unsafe", which fails the check like any other wrong answer.
"""
from __future__ import annotations

import io
import os
import signal
from dataclasses import dataclass
from typing import Any

PLAIN_SCALARS = (str, int, float, bool, type(None))
KINDS = {"tensor", "python", "other", "raised", "loaded", "value", "error"}
MAX_TEXT = 4000


@dataclass
class Reply:
    kind: str  # one of KINDS, or timeout / crashed / unsafe (set by the grader)
    value: Any = None
    device: str | None = None
    requires_grad: bool = False
    grads: Any = None  # list of tensors (None where unused), or a string saying why none
    error_type: str | None = None
    mro: tuple[str, ...] = ()
    message: str = ""
    where: str = ""
    line: int | None = None
    output: str = ""
    violations: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    other_type: str = ""
    seconds: float = 0.0

    @property
    def not_implemented(self) -> bool:
        return self.kind == "raised" and "NotImplementedError" in self.mro

    def raised(self, *names: str) -> bool:
        return self.kind == "raised" and any(name in self.mro for name in names)

    def explain(self) -> str:
        """One sentence on why there is no value to compare."""
        if self.kind == "raised":
            where = f" at line {self.line}" if self.line else ""
            return f"raised {self.error_type}{where}: {self.message}"
        if self.kind in ("timeout", "crashed", "unsafe", "error"):
            return self.message
        if self.kind == "other":
            return f"returned {self.other_type}, not a torch.Tensor"
        return ""


def validate(frame: bytes) -> Reply:
    """Untrusted bytes from a worker to a checked Reply."""
    import torch

    try:
        data = torch.load(io.BytesIO(frame), weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - whatever made the data unloadable
        return unsafe(f"its reply could not be loaded safely ({type(exc).__name__})")
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        return unsafe("its reply was not in the expected form")
    try:
        return Reply(
            kind=data["kind"],
            value=plain(data.get("value")),
            device=_text(data.get("device")) or None,
            requires_grad=bool(data.get("requires_grad", False)),
            grads=_grads(data.get("grads")),
            error_type=_text(data.get("type")) or None,
            mro=tuple(_text(n) for n in data.get("mro") or ()),
            message=_text(data.get("message")),
            where=_text(data.get("where")),
            line=int(data["line"]) if isinstance(data.get("line"), int) else None,
            output=_text(data.get("output")),
            violations=tuple(_text(v) for v in data.get("violations") or ()),
            missing=tuple(_text(v) for v in data.get("missing") or ()),
            other_type=_text(data.get("type")) if data["kind"] == "other" else "",
            seconds=float(data.get("seconds") or 0.0),
        )
    except (TypeError, ValueError) as exc:
        return unsafe(f"its reply held data of the wrong kind ({exc})")


def plain(value: Any) -> Any:
    """Only containers, numbers, strings and plain tensors; anything else is refused."""
    import torch

    if isinstance(value, PLAIN_SCALARS):
        return value
    if isinstance(value, torch.Tensor):
        return torch.Tensor(value.data) if type(value) is not torch.Tensor else value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {_text(k) if not isinstance(k, int) else k: plain(v) for k, v in value.items()}
    raise TypeError(f"a {type(value).__name__}")


def _grads(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return _text(value) if value else None
    grads = plain(value)
    if not isinstance(grads, list):
        raise TypeError("gradients that are not a list")
    return grads


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{type(value).__name__} where text was expected")
    return value[:MAX_TEXT]


def timed_out(seconds: float) -> Reply:
    return Reply(kind="timeout", message=f"did not return within {seconds:g} s (an infinite loop?); it was stopped")


def unsafe(why: str) -> Reply:
    return Reply(kind="unsafe", message=f"returned something that is not plain data: {why}")


def crashed(status: int | None) -> Reply:
    """Words for how a worker process ended, from its wait status."""
    if status is None:
        how = "ended unexpectedly"
    elif os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        how = f"was killed by signal {name}" + {
            "SIGXCPU": " (its CPU-time limit ran out)",
            "SIGXFSZ": " (it wrote a file past the size limit)",
            "SIGSEGV": " (a segmentation fault)",
            "SIGKILL": " (killed, often for running out of memory)",
        }.get(name, "")
    else:
        how = f"exited with status {os.WEXITSTATUS(status)} (sys.exit or os._exit in learner code?)"
    return Reply(kind="crashed", message=f"the process running your code {how}")

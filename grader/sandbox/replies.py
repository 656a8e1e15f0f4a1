"""What a worker said, after the grader made sure it is plain data.

Worker replies are untrusted: the worker runs learner code, which can rewrite the worker
itself and send any bytes at all. So a reply is read with the sandbox's own wire format
(`_wire.py`), which builds nothing but containers, numbers, strings and fresh dense CPU
tensors whose byte count matches their shape, within limits on size and nesting (a claimed
billion elements is refused before anything is allocated). Every field is then checked
here: text loses its terminal control characters (a learner's "message" must not repaint
the grader's terminal). A reply that is not the shape we expect becomes kind "unsafe",
which fails the check like any other wrong answer.
"""
from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass
from typing import Any

KINDS = {"tensor", "python", "other", "raised", "loaded", "value", "error"}
MAX_TEXT = 4000
MAX_ITEMS = 100_000  # values in one reply
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and newline


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
    from lossgrade.sandbox import _wire  # imports torch: not before a reply needs it

    try:
        data = _wire.decode(frame, trusted=False, max_items=MAX_ITEMS, max_elements=_wire.REPLY_ELEMENTS)
    except _wire.WireError as exc:
        return unsafe(f"its reply could not be read ({exc})")
    if not isinstance(data, dict) or type(data.get("kind")) is not str or data["kind"] not in KINDS:
        return unsafe("its reply was not in the expected form")
    try:
        return Reply(
            kind=data["kind"],
            value=_value(data["kind"], data.get("value")),
            device=_text(data.get("device")) or None,
            requires_grad=data.get("requires_grad", False) is True,
            grads=_grads(data.get("grads")),
            error_type=_text(data.get("type")) or None,
            mro=tuple(_text(n) for n in _sequence(data.get("mro"))),
            message=_text(data.get("message")),
            where=_text(data.get("where")),
            line=data["line"] if type(data.get("line")) is int and 0 < data["line"] < 1 << 31 else None,
            output=_text(data.get("output")),
            violations=tuple(_text(v) for v in _sequence(data.get("violations"))),
            missing=tuple(_text(v) for v in _sequence(data.get("missing"))),
            other_type=_text(data.get("type")) if data["kind"] == "other" else "",
            seconds=float(data["seconds"]) if type(data.get("seconds")) is float else 0.0,
        )
    except (TypeError, ValueError) as exc:
        return unsafe(f"its reply held data of the wrong kind ({exc})")


def _cleaned(value: Any) -> Any:
    """The decoded value with its text cleaned (`_wire` built only plain types)."""
    if type(value) is str:
        return _text(value)
    if type(value) is list:
        return [_cleaned(v) for v in value]
    if type(value) is dict:
        return {_text(k) if type(k) is str else k: _cleaned(v) for k, v in value.items()}
    return value


def _value(kind: str, value: Any) -> Any:
    """The value, which for a "tensor" reply must be a tensor, and for a "python" one a
    number, a bool or None."""
    checked = _cleaned(value)
    if kind == "tensor" and not _is_tensor(checked):
        raise TypeError("a tensor reply without a tensor")
    if kind == "python" and type(checked) not in (int, float, bool, type(None)):
        raise TypeError("a Python value that is not a number")
    return checked


def _grads(value: Any) -> Any:
    """A list holding a tensor (or None) per input, or a sentence saying why there is none."""
    if value is None:
        return None
    if type(value) is str:
        return _text(value)
    if type(value) is not list or not all(g is None or _is_tensor(g) for g in value):
        raise TypeError("gradients that are not a list of tensors")
    return value


def _is_tensor(value: Any) -> bool:
    import torch

    return type(value) is torch.Tensor


def _sequence(value: Any) -> list[Any]:
    if value is None:
        return []
    if type(value) not in (list, tuple) or len(value) > 1000:
        raise TypeError("a list was expected")
    return list(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        raise TypeError(f"{type(value).__name__} where text was expected")
    return _CONTROL.sub("", value[:MAX_TEXT])


def timed_out(seconds: float) -> Reply:
    return Reply(kind="timeout", message=f"did not return within {seconds:g} s (an infinite loop?); it was stopped")


def unsafe(why: str) -> Reply:
    return Reply(kind="unsafe", message=f"returned something that is not plain data: {why}")


def crashed(status: int | None, killed: bool = False) -> Reply:
    """Words for how a worker process ended, from its wait status (`killed`: the grader
    stopped it after it had closed its connection)."""
    if killed:
        how = "closed its connection to the grader and was stopped"
    elif status is None:
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

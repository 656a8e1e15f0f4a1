"""What a worker said, after the grader made sure it is plain data.

Worker replies are untrusted: the worker runs learner code, which can rewrite the worker
itself and send any bytes at all. So a reply must be an uncompressed torch zip archive
(no zip bomb), is loaded with `torch.load(weights_only=True)` (no code can run; torch >= 2.6
for that guarantee), and every field is then checked here: tensors must be plain, dense,
CPU tensors no larger than their own storage (a zero-stride view of one number could
otherwise claim a billion elements and exhaust the grader's memory on its first copy);
containers may not nest deeper, or hold more items, than any honest reply does; text loses
its terminal control characters (a learner's "message" must not repaint the grader's
terminal). A reply that is not the shape we expect becomes kind "unsafe", which fails the
check like any other wrong answer.
"""
from __future__ import annotations

import io
import os
import re
import signal
import zipfile
from dataclasses import dataclass
from typing import Any

PLAIN_SCALARS = (str, int, float, bool, type(None))
KINDS = {"tensor", "python", "other", "raised", "loaded", "value", "error"}
MAX_TEXT = 4000
MAX_DEPTH = 16
MAX_ITEMS = 100_000  # values visited in the containers of one reply
MAX_ELEMENTS = 1 << 24
MAX_ARCHIVE_MEMBERS = 10_000
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
    import torch

    problem = _archive_problem(frame)
    if problem:
        return unsafe(f"its reply was not a plain torch archive ({problem})")
    try:
        data = torch.load(io.BytesIO(frame), weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - whatever made the data unloadable
        return unsafe(f"its reply could not be loaded safely ({type(exc).__name__})")
    if not isinstance(data, dict) or type(data.get("kind")) is not str or data["kind"] not in KINDS:
        return unsafe("its reply was not in the expected form")
    try:
        budget = [MAX_ITEMS]
        return Reply(
            kind=data["kind"],
            value=_value(data["kind"], data.get("value"), budget),
            device=_text(data.get("device")) or None,
            requires_grad=bool(data.get("requires_grad", False) is True),
            grads=_grads(data.get("grads"), budget),
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


def _archive_problem(frame: bytes) -> str | None:
    """Why `frame` is not what `torch.save` writes (a zip archive of stored members)."""
    try:
        with zipfile.ZipFile(io.BytesIO(frame)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return "not a zip archive"
    if len(members) > MAX_ARCHIVE_MEMBERS:
        return "too many members"
    if any(m.compress_type != zipfile.ZIP_STORED or m.file_size != m.compress_size for m in members):
        return "compressed members"
    return None


def plain(value: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """Only containers, numbers, strings and plain tensors; anything else is refused.
    `budget` (one shared counter per reply) caps the items visited, so that shared and
    self-referencing containers cannot make this walk explode."""
    budget = budget if budget is not None else [MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise ValueError("containers nested too deep or holding too many items")
    if type(value) is str:
        return _text(value)
    if type(value) is int and not -(1 << 63) <= value < (1 << 63):
        raise ValueError("an integer too large for any tensor")
    if type(value) in PLAIN_SCALARS:
        return value
    if isinstance(value, PLAIN_SCALARS):  # a subclass of str, int... (weights_only makes none)
        raise TypeError(f"a {type(value).__name__}")
    if type(value) in (list, tuple):
        return [plain(v, budget, depth + 1) for v in value]
    if type(value) is dict:
        return {_key(k): plain(v, budget, depth + 1) for k, v in value.items()}
    return _tensor(value)


def _tensor(value: Any) -> Any:
    """A fresh, dense copy of a tensor that is what it says it is; TypeError otherwise."""
    import torch

    if not isinstance(value, torch.Tensor) or type(value) not in (torch.Tensor, torch.nn.Parameter):
        raise TypeError(f"a {type(value).__name__}")
    if value.layout != torch.strided or value.device.type != "cpu" or value.is_quantized:
        raise TypeError("a tensor that is not a dense CPU tensor")
    if value.numel() > MAX_ELEMENTS:
        raise ValueError(f"a tensor of {value.numel()} elements")
    if value.numel() * value.element_size() > value.untyped_storage().nbytes():
        raise ValueError("a tensor larger than its own storage (an overlapping view)")
    return value.detach().clone(memory_format=torch.contiguous_format)


def _value(kind: str, value: Any, budget: list[int]) -> Any:
    """The value, which for a "tensor" reply must be a tensor, and for a "python" one a
    number, a bool or None."""
    checked = plain(value, budget)
    if kind == "tensor" and not _is_tensor(checked):
        raise TypeError("a tensor reply without a tensor")
    if kind == "python" and type(checked) not in (int, float, bool, type(None)):
        raise TypeError("a Python value that is not a number")
    return checked


def _grads(value: Any, budget: list[int]) -> Any:
    """A list holding a tensor (or None) per input, or a sentence saying why there is none."""
    if value is None:
        return None
    if type(value) is str:
        return _text(value)
    grads = plain(value, budget)
    if not isinstance(grads, list) or not all(g is None or _is_tensor(g) for g in grads):
        raise TypeError("gradients that are not a list of tensors")
    return grads


def _is_tensor(value: Any) -> bool:
    import torch

    return type(value) is torch.Tensor


def _sequence(value: Any) -> list[Any]:
    if value is None:
        return []
    if type(value) not in (list, tuple) or len(value) > 1000:
        raise TypeError("a list was expected")
    return list(value)


def _key(key: Any) -> str | int:
    if type(key) is int:
        return key
    return _text(key)


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

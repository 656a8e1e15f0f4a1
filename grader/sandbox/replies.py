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
    stub: bool = True  # a NotImplementedError raised by a `raise` of the learner's, not by torch
    message: str = ""
    where: str = ""
    line: int | None = None
    output: str = ""
    violations: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    other_type: str = ""

    @property
    def not_implemented(self) -> bool:
        return self.kind == "raised" and "NotImplementedError" in self.mro and self.stub

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
        data = _wire.decode(frame, max_items=MAX_ITEMS, max_elements=_wire.REPLY_ELEMENTS)
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
            mro=_texts(data.get("mro")),
            stub=data.get("stub", True) is not False,
            message=_text(data.get("message")),
            where=_text(data.get("where")),
            line=data["line"] if type(data.get("line")) is int and 0 < data["line"] < 1 << 31 else None,
            output=_text(data.get("output")),
            violations=_texts(data.get("violations")),
            missing=_texts(data.get("missing")),
            other_type=_text(data.get("type")) if data["kind"] == "other" else "",
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


def _texts(value: Any) -> tuple[str, ...]:
    """A list of text, each item checked (`_text`); () for None (most replies carry none)."""
    return () if value is None else tuple(map(_text, _sequence(value)))


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
    if value.isascii() and value.isprintable():  # most are ("cpu", a class's name): nothing to remove
        return value[:MAX_TEXT]
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


# ------------------------------------------------------------------ replies against requests
# A reply that is plain data may still not be the answer to what was asked: learner code in
# the worker can rewrite what it sends (an empty list of gradients, a report without steps,
# a gradient of another shape, which a broadcasting comparison would accept). The grader
# knows what every reply must hold, so each is checked against its request here, before any
# check reads it; a reply that does not fit becomes kind "unsafe" and fails the check,
# saying what did not fit.
CALL_KINDS = frozenset({"tensor", "python", "other", "raised", "error", "timeout", "crashed", "unsafe"})
DRIVE_KINDS = frozenset({"value", "raised", "error", "timeout", "crashed", "unsafe"})
_DEVICE = re.compile(r"(cpu|cuda|mps|meta|xpu)(:\d{1,3})?")


@dataclass(frozen=True)
class TensorOf:
    """A tensor of exactly this shape (None: any) and dtype (None: any)."""

    shape: tuple[int, ...] | None = None
    dtype: Any = None


@dataclass(frozen=True)
class ListOf:
    """A list whose every item fits `item`, of exactly `length` items, or between
    `at_least` and `at_most` of them."""

    item: Any
    length: int | None = None
    at_least: int = 0
    at_most: int = 100_000


@dataclass(frozen=True)
class AnyOf:
    options: tuple[Any, ...]


@dataclass(frozen=True)
class Rule:
    """`schema`, and then `holds(value, where)`: None, or why the fields disagree."""

    schema: Any
    holds: Any


def nullable(schema: Any) -> AnyOf:
    return AnyOf((type(None), schema))


def misfit(value: Any, schema: Any, where: str = "the reply") -> str | None:
    """Why `value` does not fit `schema`, or None. A schema is a Python type (matched
    exactly: a bool is no int), a TensorOf, a ListOf, an AnyOf, or a dict of schemas (the
    value must have exactly those keys)."""
    if isinstance(schema, Rule):
        return misfit(value, schema.schema, where) or schema.holds(value, where)
    if isinstance(schema, AnyOf):
        found = [misfit(value, option, where) for option in schema.options]
        return None if None in found else found[-1]
    if isinstance(schema, type):
        if schema is float and type(value) is int:
            return None
        return None if type(value) is schema else f"{where} is {_kind(value)}, not {_kind_of(schema)}"
    if isinstance(schema, TensorOf):
        if not _is_tensor(value):
            return f"{where} is {_kind(value)}, not a tensor"
        if schema.shape is not None and tuple(value.shape) != schema.shape:
            return f"{where} has shape {tuple(value.shape)}, not {schema.shape}"
        if schema.dtype is not None and value.dtype != schema.dtype:
            return f"{where} is {value.dtype}, not {schema.dtype}"
        return None
    if isinstance(schema, ListOf):
        if type(value) is not list:
            return f"{where} is {_kind(value)}, not a list"
        if schema.length is not None and len(value) != schema.length:
            return f"{where} holds {len(value)} items, not {schema.length}"
        if not schema.at_least <= len(value) <= schema.at_most:
            return f"{where} holds {len(value)} items, not {schema.at_least} to {schema.at_most}"
        for index, item in enumerate(value):
            problem = misfit(item, schema.item, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(schema, dict):
        if type(value) is not dict:
            return f"{where} is {_kind(value)}, not a dict"
        if value.keys() != schema.keys():
            extra, missing = sorted(map(str, value.keys() - schema.keys())), sorted(map(str, schema.keys() - value.keys()))
            return f"{where} has keys {extra} it should not have and lacks {missing}"
        for key, item in schema.items():
            problem = misfit(value[key], item, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    raise TypeError(f"not a schema: {schema!r}")


def _kind(value: Any) -> str:
    return "a tensor" if _is_tensor(value) else f"a {type(value).__name__}"


def _kind_of(schema: type) -> str:
    return "None" if schema is type(None) else f"a {schema.__name__}"


def malformed(why: str) -> Reply:
    return Reply(kind="unsafe", message=f"sent a reply that does not fit what the grader asked for: {why} (no "
                                        "function of yours returns that: did your code change the grader's worker?)")


def fit_call(reply: Reply, request: dict[str, Any]) -> Reply:
    """`reply` when it fits the call `request` (from `learner.call_request`), else why not.
    A tensor result comes with a device's name and, when gradients were asked for, either
    a sentence saying why there are none or exactly one gradient per input asked for,
    each None or of that input's shape and dtype."""
    if reply.kind not in CALL_KINDS:
        return malformed(f"a {reply.kind!r} reply to a call")
    if reply.kind != "tensor":
        return reply if reply.grads is None else malformed("gradients without a tensor result")
    if reply.device is None or not _DEVICE.fullmatch(reply.device):
        return malformed(f"a tensor on the device {reply.device!r}")
    grad_wrt = tuple(request.get("grad_wrt") or ())
    if not grad_wrt:
        return reply if reply.grads is None else malformed("gradients that were not asked for")
    if type(reply.grads) is str:
        return reply
    args = request["args"]
    if type(reply.grads) is not list or len(reply.grads) != len(grad_wrt):
        count = len(reply.grads) if type(reply.grads) is list else _kind(reply.grads)
        return malformed(f"{count} gradients for the {len(grad_wrt)} input(s) asked for")
    problem = None
    for index, (position, grad) in enumerate(zip(grad_wrt, reply.grads, strict=True)):
        problem = problem or misfit(grad, nullable(TensorOf(tuple(args[position].shape), args[position].dtype)),
                                    f"gradient {index + 1}")
    return reply if problem is None else malformed(problem)


def fit_drive(reply: Reply, schema: Any) -> Reply:
    """`reply` when it fits a driver's report `schema`, else why not."""
    if reply.kind not in DRIVE_KINDS:
        return malformed(f"a {reply.kind!r} reply to a driver")
    if reply.kind != "value":
        return reply
    problem = misfit(reply.value, schema, "the driver's report")
    return reply if problem is None else malformed(problem)


# ------------------------------------------------------------------ the drivers' reports
def report_schema(driver: str, params: dict[str, Any]) -> Any:
    """What the driver `driver` (`_drivers.py`) reports for these params, which the grader
    itself sent: every parameter and buffer of the model it builds, by name, shape and
    dtype, and as many steps as there were batches; at most a number per call."""
    from lossgrade.sandbox import _drivers

    if driver == "values":
        return {"values": ListOf(float, at_most=len(params["calls"]))}
    if driver == "fit":
        parts = len(params.get("x_parts") or [])
        done = {"stopped": bool, "seconds": float, "type": str, "is_module": bool, "output": nullable(_RETURNED),
                "parts": ListOf(_RETURNED, at_most=parts)}
        return AnyOf(({"stopped": bool, "seconds": float},
                      Rule(done, lambda report, where: _module_output(report, where, parts))))
    model = _drivers.build_model(params["model_spec"])
    snapshot = {
        "state": {name: TensorOf(tuple(t.shape), t.dtype) for name, t in model.state_dict().items()},
        "grads": {name: nullable(TensorOf(tuple(p.shape), p.dtype)) for name, p in model.named_parameters()},
        "modes": ListOf(bool, length=len(list(model.modules()))),
    }
    if driver == "train_steps":
        calls = len(params["batches"])
        step = {"returned": _RETURNED, **snapshot}
        return Rule({"steps": ListOf(step, at_most=calls), "error": nullable(_ERROR)},
                    lambda report, where: _steps_done(report, calls, where))
    if driver == "evaluate":
        return Rule({"returned": nullable(_RETURNED), "error": nullable(_ERROR), "before": snapshot, "after": snapshot,
                     "forward_modes": ListOf(bool, at_most=1000),
                     "loss_calls": ListOf({"grad_enabled": bool, "output_requires_grad": bool}, at_most=1000),
                     "grad_enabled_after": bool}, _one_outcome)
    raise ValueError(f"no report schema for the driver {driver!r}")


def _returned_fields(value: dict[str, Any], where: str) -> str | None:
    if value["is_float"] != (type(value["value"]) is float):
        return f"{where} says is_float={value['is_float']} of a {value['type']} holding {_kind(value['value'])}"
    return None


_RETURNED = Rule({"type": str, "is_float": bool, "value": AnyOf((type(None), float, TensorOf())), "requires_grad": bool},
                 _returned_fields)
_ERROR = {"type": str, "message": str, "line": nullable(int), "where": str, "call": int}


def _steps_done(report: dict[str, Any], calls: int, where: str) -> str | None:
    """Every call made a step, or an error stopped the run in call len(steps) + 1."""
    steps, error = len(report["steps"]), report["error"]
    if error is None and steps != calls:
        return f"{where} holds {steps} steps for {calls} calls, and no error"
    if error is not None and error["call"] != steps + 1:
        return f"{where} holds {steps} steps before an error in call {error['call']}"
    return None


def _one_outcome(report: dict[str, Any], where: str) -> str | None:
    if (report["returned"] is None) == (report["error"] is None):
        return f"{where} should hold either what evaluate returned or what it raised"
    return None


def _module_output(report: dict[str, Any], where: str, parts: int = 0) -> str | None:
    if report["stopped"] or report["is_module"] != (report["output"] is not None):
        return f"{where} disagrees with itself (stopped, is_module and output)"
    if len(report["parts"]) != (parts if report["is_module"] else 0):
        return f"{where} holds {len(report['parts'])} outputs on parts of the held-out inputs, not {parts}"
    return None

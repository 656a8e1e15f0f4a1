"""What a learner's call gave, as plain data: its value (`describe`, `plain`), its
gradients (`gradients`: autograd's graph walked once, or twice where Python code ran in the
first walk) or what it raised (`describe_exception`, `raised_by_a_raise`).

A sibling of `_worker.py`, loaded the same way (by the zygote, and by `inprocess.py` for our
own modules); it imports nothing from lossgrade. Everything it reads of the learner's
objects it reads through the base types' own methods, taken at import, before any learner
code could replace them: no method of a learner's subclass runs here.
"""
from __future__ import annotations

import os
import sys
import traceback
import types
from collections.abc import Callable, Iterator
from typing import Any

import _wire  # our sibling: whoever loads this file provides it (see _zygote.py, inprocess.py)
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# Captured before the zygote wraps forbidden functions: computing gradients for a check is
# our own work, even in an exercise (ex06) that forbids learner code to call it.
_AUTOGRAD_GRAD = torch.autograd.grad
# autograd's engine itself, which torch.autograd.grad calls through Python frames of its own
# (see _first_backward); sys.setprofile, before any learner code could replace it.
_RUN_BACKWARD = getattr(getattr(torch.autograd.Variable, "_execution_engine", None), "run_backward", None)
_SETPROFILE, _GETPROFILE = sys.setprofile, sys.getprofile
_CUDA_STARTED, _ONES_LIKE = torch.cuda.is_initialized, torch.ones_like
_DETACH, _CLONE, _CPU = torch.Tensor.detach, torch.Tensor.clone, torch.Tensor.cpu
_TYPE_NAME = type.__dict__["__name__"].__get__  # a class's own name, whatever its metaclass says
_TYPE_MRO = type.__dict__["__mro__"].__get__
_TRACEBACK = BaseException.__dict__["__traceback__"].__get__


# ------------------------------------------------------------------------------ its value
def describe(out: Any) -> dict[str, Any]:
    """Plain data describing what the learner's function returned. `type()` (which an
    object cannot fake, unlike `isinstance` through a `__class__` property) decides."""
    if type(out) is torch.Tensor:
        return {
            "kind": "tensor",
            "value": _CLONE(_CPU(_DETACH(out))),
            "device": str(out.device),
            "requires_grad": bool(out.requires_grad),
        }
    if isinstance(out, torch.Tensor):
        return {"kind": "other", "type": f"a subclass of torch.Tensor ({type(out).__name__})"}
    if type(out) in (int, float, bool) or out is None:
        return {"kind": "python", "value": out}
    return {"kind": "other", "type": type(out).__name__}


# ------------------------------------------------------------------------------ its gradients
def gradients(out: torch.Tensor, inputs: list[torch.Tensor], grad_output: Any) -> Any:
    if not out.requires_grad:
        return "the result is not connected to the inputs' autograd graph"
    try:
        # The vector-Jacobian product as the gradient of one number: the same values as
        # passing the upstream gradient as grad_outputs, without autograd's shape checks
        # (which import sympy, ~0.5 s in every worker). Without one, it is all ones: sum().
        total = out.sum() if grad_output is None else (out * grad_output.to(out.device, out.dtype)).sum()
        grads, python_ran = _first_backward(total, inputs)
    except Exception as exc:  # noqa: BLE001 - any failure of the learner's graph
        return f"backward failed: {type(exc).__name__}: {exc}"
    if not python_ran:  # torch's own derivative formulas alone: they change nothing that forward saved
        return list(grads)
    # Twice: a backward that changes what forward saved (`saved.sub_(...)`, `grad = saved;
    # grad[...] -= 1`) is right once and wrong, or refused by autograd, the next time the
    # same graph is walked (retain_graph=True, a second loss sharing it).
    try:
        again = _AUTOGRAD_GRAD(total, inputs, allow_unused=True)
    except Exception as exc:  # noqa: BLE001 - the saved tensors' version counters, most often
        return f"{SAVED_CHANGED}: a second backward through the same graph raised {type(exc).__name__}: {exc}"
    for first, second in zip(grads, again, strict=True):
        if (first is None) != (second is None) or first is not None and not _same_gradient(first, second):
            return f"{SAVED_CHANGED}: a second backward through the same graph returned another gradient"
    return list(grads)  # sent as their values (a sum's gradient is an expanded view of one number)


def _first_backward(total: torch.Tensor, inputs: list[torch.Tensor]) -> tuple[tuple[Any, ...], bool]:
    """The gradients of `total` (its graph kept for a second walk), and whether any Python
    code ran while autograd computed them: a custom Function's backward, a hook, a saved
    tensor's unpack hook, a __del__. Where none did, only torch's own derivative formulas
    ran, and a second walk (~10% of a worker's time) could find nothing. Known only on a CPU
    that CUDA never started (autograd runs the graph on this thread, where the profile hook
    sees every call), for a real result, with no profiler on: anywhere else, Python is taken
    to have run."""
    if (_RUN_BACKWARD is None or _CUDA_STARTED() or total.device.type != "cpu" or total.is_complex()
            or _GETPROFILE() is not None):  # a profiler on already (cProfile, in our own process): left alone
        return _AUTOGRAD_GRAD(total, inputs, allow_unused=True, retain_graph=True), True
    ran: list[bool] = []

    def noticed(frame: Any, event: str, arg: Any) -> None:
        if event == "call":  # a Python function began (c_call: the engine's own entry, from here)
            ran.append(True)
            _SETPROFILE(None)

    _SETPROFILE(noticed)
    try:
        grads = _RUN_BACKWARD((total,), (_ONES_LIKE(total),), True, False, tuple(inputs), True, False)
    finally:
        _SETPROFILE(None)
    return tuple(grads), bool(ran)


SAVED_CHANGED = "backward changed a tensor that forward saved for it, in place"


def _same_gradient(first: torch.Tensor, second: torch.Tensor) -> bool:
    """Equal up to the order of a GPU's atomic additions."""
    if torch.equal(first, second):
        return True
    if first.shape != second.shape or not (first.is_floating_point() or first.is_complex()):
        return False
    scale = 1e-2 if first.dtype in (torch.float16, torch.bfloat16) else 1e-5
    return bool(torch.allclose(first, second, rtol=scale, atol=scale, equal_nan=True))


# ------------------------------------------------------------------------------ what it raised
def describe_exception(exc: BaseException, workdir: str) -> dict[str, Any]:
    """What the learner's code raised, with only the learner's own frames as context. Its
    class's own name and its own traceback are read beneath whatever the class says of them
    (a metaclass's __name__, a __traceback__ property); its message is its __str__, which
    may raise or return anything: plain text comes back in every case."""
    every = _frames(exc, workdir)
    frames = [
        f for f in every
        if os.path.dirname(os.path.abspath(f.filename)) == workdir
    ]
    where = "".join(map(_formatted, frames[-3:]))
    kind = type(exc)
    try:
        message = _text(str(exc), 1000)
    except BaseException as failure:  # noqa: BLE001 - a __str__ that raises, even SystemExit
        message = f"(its message could not be shown: its __str__ raised {_class_name(type(failure))})"
    return {
        "kind": "raised",
        "type": _class_name(kind),
        "mro": [_class_name(cls) for cls in _TYPE_MRO(kind)],
        "stub": raised_by_a_raise(exc, every),
        "message": message,
        "where": where.replace(workdir + os.sep, ""),
        "line": SyntaxError.__dict__["lineno"].__get__(exc) if issubclass(kind, SyntaxError)
        else (frames[-1].lineno if frames else None),
    }


_FORMATTED: dict[tuple[Any, ...], str] = {}  # a frame's text, by where it is and its line's text


def _formatted(frame: traceback.FrameSummary) -> str:
    """`traceback.format_list([frame])`, kept: a learner's mistake raises on the same line
    call after call, and finding the line's carets parses it (~17 us)."""
    key = (frame.filename, frame.lineno, frame.name, frame.line,
           *(getattr(frame, name, None) for name in ("end_lineno", "colno", "end_colno")))  # 3.11's positions
    text = _FORMATTED.get(key)
    if text is None:
        if len(_FORMATTED) >= 256:
            _FORMATTED.clear()
        text = _FORMATTED[key] = "".join(traceback.format_list([frame]))
    return text


def _class_name(cls: type) -> str:
    return _text(_TYPE_NAME(cls), 200)


def _text(value: Any, limit: int) -> str:
    """`value` as a plain str of at most `limit` characters (a str subclass's own methods
    never run)."""
    if not isinstance(value, str):
        return f"(not text: a {_TYPE_NAME(type(value))})"
    return str.__str__(value)[:limit]


def plain(value: Any, depth: int = 0) -> Any:
    """`value` rebuilt of plain types only (exact str, int, float, bool, None, list, tuple,
    dict and torch.Tensor), read through the base types' own methods, so that no method of
    a learner's subclass runs; TypeError for anything else."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str) or kind is torch.Tensor:
        return value
    if depth > _wire.MAX_DEPTH:
        raise TypeError("containers nested too deep")
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, list):
        return [plain(item, depth + 1) for item in list.__getitem__(value, slice(None))]
    if isinstance(value, tuple):
        return tuple(plain(item, depth + 1) for item in tuple.__getitem__(value, slice(None)))
    if isinstance(value, dict):
        return {plain(key, depth + 1): plain(item, depth + 1) for key, item in dict.items(value)}
    raise TypeError(f"a {_class_name(kind)} cannot be sent")


_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep


def _frames(exc: BaseException, workdir: str | None = None) -> traceback.StackSummary:
    """`traceback.extract_tb`, with each frame's source line read only when asked for: the
    raise of a ValueError deep in torch would read every torch file on its way (the worker
    is fresh, its line cache empty), and all that is shown is the learner's frames and the
    last one. With `workdir`, only those frames (of the files in it, and the last that is
    not the sandbox's own): finding a frame's position walks its code's positions, and the
    worker's own frames and torch's are most of a traceback."""
    entries = []
    entry = _TRACEBACK(exc)
    while entry is not None:
        entries.append(entry)
        entry = entry.tb_next
    if workdir is not None:
        last = _last_not_ours(entries, lambda entry: entry.tb_frame.f_code.co_filename)
        entries = [e for e in entries
                   if e is last or os.path.dirname(os.path.abspath(e.tb_frame.f_code.co_filename)) == workdir]
    try:
        return traceback.StackSummary._extract_from_extended_frame_gen(  # type: ignore[attr-defined]
            _positions(entries), lookup_lines=False)
    except AttributeError:  # another Python's private names: read them all
        return traceback.extract_tb(_TRACEBACK(exc))


def _positions(entries: list[types.TracebackType]) -> Iterator[tuple[types.FrameType, tuple[Any, ...]]]:
    """traceback._walk_tb_with_full_positions, over these entries of a traceback."""
    for entry in entries:
        positions = traceback._get_code_position(entry.tb_frame.f_code, entry.tb_lasti)  # type: ignore[attr-defined]
        yield entry.tb_frame, (positions if positions[0] is not None else (entry.tb_lineno, *positions[1:]))


def raised_by_a_raise(exc: BaseException, frames: traceback.StackSummary | None = None) -> bool:
    """Whether `exc` came from a `raise` statement outside torch, as a stub's
    NotImplementedError does; torch's own NotImplementedError (a loss on int64 tensors:
    "mse_cpu" not implemented for 'Long') comes from inside torch or from a C function
    called on a line of the learner's that raises nothing, and means the code ran."""
    frames = _frames(exc) if frames is None else frames
    last = _last_not_ours(frames, lambda frame: frame.filename)
    if last is None:
        return True
    if os.path.abspath(last.filename).startswith(_TORCH_DIR):
        return False
    text = last.line or ""
    return not text or text.lstrip().startswith("raise")


def _last_not_ours(frames: Any, filename: Callable[[Any], str]) -> Any:
    """The last of `frames` whose file is not the sandbox's own (a guard's wrapper around a
    forbidden function passes a call on, as if it were not there); the last of all where
    every one is ours; None where there are none."""
    return next((f for f in reversed(frames) if not os.path.abspath(filename(f)).startswith(HERE + os.sep)),
                frames[-1] if frames else None)

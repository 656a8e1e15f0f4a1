"""The untrusted side of the sandbox: a worker serving requests about one learner module.

The zygote (`_zygote.py`) forks a worker per learner module and hands it to `Worker.serve`.
What a call gave (its value, its gradients, what it raised) is made plain data by its
sibling `_results.py`; its drivers come from its sibling `_drivers_loader.py`.
This file imports nothing from lossgrade, so a worker holds no reference solution, no check
and no result: a learner who searches `sys.modules` or `gc.get_objects()` finds only torch
and the sandbox's own code. Everything a worker sends back is treated as untrusted by the
grader, which reads it as plain data only (`_wire.py`) and decides every verdict itself.

`inprocess.py` loads this file too, to run the same `execute` on our own modules (tests and
the benchmark), without guards.

Protocol (both directions): an 8-byte big-endian length, then a message in the formats of
`_wire.py` (plain containers, numbers, strings and tensors: a request's tensors arrive as
bytes, made tensors where a call uses them). One reply per request, except for a "calls"
request, which carries several calls and gets a reply for each, in order.
"""
from __future__ import annotations

import contextlib
import linecache
import os
import random
import select
import shutil
import socket
import struct
import sys
import types
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import _drivers_loader  # our siblings: whoever loads this file provides them (see _zygote.py, inprocess.py)
import _results
import _wire
import torch
from _results import describe_exception, plain

MAX_OUTPUT = 4000  # characters of printed output returned per request
# Our own tensor operations, taken before any learner code could replace them on the class
# (`T = type(x); T.to = ...`): the worker's code never runs a learner's replacement.
_DETACH, _TO, _CLONE, _REQUIRES_GRAD = torch.Tensor.detach, torch.Tensor.to, torch.Tensor.clone, torch.Tensor.requires_grad_
_EQUAL, _ISNAN, _EQ, _ALL = torch.equal, torch.isnan, torch.eq, torch.all
LearnerCode = Callable[..., AbstractContextManager[None]]  # (forbid, graph=False)


def _unguarded(forbid: list[str], graph: bool = False) -> AbstractContextManager[None]:
    return contextlib.nullcontext()


# ----------------------------------------------------------------------------- framing
def read_frame(sock: socket.socket) -> bytes | None:
    header = _read_exact(sock, 8)
    if header is None:
        return None
    (size,) = struct.unpack(">Q", header)
    return _read_exact(sock, size)


def _read_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def write_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">Q", len(payload)) + payload)


# ------------------------------------------------------------------------------ worker
class Worker:
    """Serves one learner module: load it, then answer call and driver requests.

    `learner_code(forbid)` is the guards' context manager, entered around every stretch of
    learner code; `violations` is the guards' running record of what learner code tried.
    """

    def __init__(self, sock: socket.socket, workdir: str, learner_code: LearnerCode, violations: list[str],
                 drivers: dict[str, Callable[..., Any]], imported: dict[str, None] | None = None) -> None:
        self.sock = sock
        self.workdir = workdir
        self.learner_code = learner_code
        self.violations = violations
        self.drivers = drivers
        self.module: types.ModuleType | None = None
        self.forbid: list[str] = []  # the exercise's forbidden calls, as the load request said
        # Open for the worker's whole life, which no `with` block spans.
        self.output = open(os.path.join(workdir, ".output"), "a+", encoding="utf-8", errors="replace")  # noqa: SIM115
        self.output_pos = 0
        # What `reset` puts back for the same learner's next exercise: the worker as it began.
        self.start = (list(sys.path), list(sys.meta_path), dict(os.environ), torch.get_rng_state(), random.getstate(),
                      torch.get_default_dtype())
        # The modules at the start: `reset` looks no further at these. Taken by the zygote
        # before it forks (`remember_modules`): a copy here would write to every module
        # object (its reference count), and so copy ~1,900 of the zygote's pages (~7 MB).
        self.modules = MODULES_AT_FORK if MODULES_AT_FORK is not None else dict(sys.modules)
        self.imported = imported  # the import guard's record of the modules imported (see `_added_modules`)

    def serve(self) -> None:
        while True:
            frame = read_frame(self.sock)
            if frame is None:
                return
            request = _wire.decode_request(frame)  # from the grader
            if request["op"] == "stop":  # it came after its batch was done: nothing left to skip
                continue
            # "calls": several calls in one request, each answered as soon as it is done.
            # Once one finds a function not written yet, the same answer serves the rest:
            # the grader stops at the first such answer anyway ("not started"). Between two
            # calls, a "stop" from the grader (its check failed: it needs no more) has the
            # rest skipped, each answered at once, as the grader still reads one reply a call.
            not_started = skipped = None
            for index, one in enumerate(request["calls"] if request["op"] == "calls" else [request]):
                if index and skipped is None and not_started is None and self.stop_asked():
                    skipped = {"kind": "error", "message": "skipped: the grader stopped this batch of calls",
                               "violations": list(self.violations), "output": ""}
                if skipped is None and not_started is None:
                    reply = self.answer(one)
                    if reply["kind"] == "raised" and "NotImplementedError" in reply["mro"] and reply["stub"]:
                        not_started = reply
                write_frame(self.sock, encode_reply(skipped or not_started or reply))

    def stop_asked(self) -> bool:
        """Whether the grader has sent "stop" since the batch began (it sends nothing else
        before the batch's last reply); True too when it has gone."""
        if not select.select([self.sock], [], [], 0)[0]:
            return False
        frame = read_frame(self.sock)
        return frame is None or _wire.decode_request(frame).get("op") == "stop"

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = self.handle(request)
        except BaseException as exc:  # noqa: BLE001 - anything the learner raised, SystemExit included
            # Describing it runs the learner's code (its __str__), and letting go of it runs
            # its frames' finalizers: with the guards on.
            with self.learner_code(self.forbid):
                reply = describe_exception(exc, self.workdir)
                del exc
        if self.violations:  # left out where empty, as most are: the grader reads a missing one as empty
            reply["violations"] = list(self.violations)
        output = self.new_output()
        if output:
            reply["output"] = output
        return reply

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "load":
            return self.load(request)
        if request["op"] == "reset":
            return self.reset()
        if request["op"] == "forget":  # violations of calls run ahead that no check read (checks/ahead.py)
            del self.violations[int(request["keep"]):]
            return {"kind": "value", "value": "forgot"}
        if self.module is None:
            return {"kind": "error", "message": "no module loaded"}
        return execute(self.module, self.drivers, request, self.learner_code, self.forbid, self.violations)

    def load(self, request: dict[str, Any]) -> dict[str, Any]:
        for name, source in request["files"].items():
            with open(os.path.join(self.workdir, os.path.basename(name)), "w", encoding="utf-8") as f:
                f.write(source)
        self.forbid = list(request["forbid"])
        with self.learner_code(self.forbid):
            self.module = __import__(request["module"])
            missing = [f for f in request["functions"] if not callable(getattr(self.module, f, None))]
        return {"kind": "loaded", "missing": missing}

    def reset(self) -> dict[str, Any]:
        """Make this worker what a fresh one would be for the same learner's next exercise
        (forking one costs ~16 ms of CPU, and a submission has eight): the last exercise's
        modules, files, printed output and violations gone; the import path, import hooks,
        environment, working folder, random generators and default dtype as they began;
        the last exercise's forbidden operators are switched for the next one's by the
        guards. The grader hands a worker on only while the zygote sees it as one thread
        with no process below it, and only to the same learner's next exercise: whatever
        else one file changes in its process (torch's functions, say), only that learner's
        own other files could meet, and each file could do as much itself."""
        for name, module in self._added_modules():
            if self.modules.get(name) is module:  # there when the worker began: ours, not the learner's
                continue
            if type(module) is not types.ModuleType:  # put there by learner code: none of ours is such
                del sys.modules[name]
                continue
            # Read from the module's own dict, never through getattr: a learner's module (or a
            # str subclass) would run its code here, outside the guards. One with no file of its
            # own (a learner's that deleted its __file__, a built-in imported since) goes too:
            # importing it again is all that costs.
            where = module.__dict__.get("__file__")
            if type(where) is not str or os.path.dirname(os.path.abspath(where)) == self.workdir:
                del sys.modules[name]
        self.module, self.forbid = None, []
        path, meta_path, environ, rng, state, dtype = self.start
        sys.path[:], sys.meta_path[:] = path, meta_path
        os.environ.clear()
        os.environ.update(environ)
        os.chdir(self.workdir)
        torch.set_rng_state(rng)
        random.setstate(state)
        torch.set_default_dtype(dtype)
        torch.set_grad_enabled(True)
        left = []
        for entry in os.scandir(self.workdir):
            if entry.name == ".output":
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
            except (OSError, RecursionError):
                left.append(entry.name)
        # The import system's knowledge of this folder (and anything under it) is forgotten:
        # its files are the next exercise's. Only those finders: invalidating every one
        # (importlib.invalidate_caches) writes to each, copying ~470 of the zygote's pages.
        # The line cache likewise keeps the installed files' lines (nothing here can write
        # outside this folder) and forgets the folder's and those of no file ("<string>").
        inside = self.workdir + os.sep
        for cache in (sys.path_importer_cache, linecache.cache):  # and the lines of its files
            for cached in [p for p in cache if type(p) is not str or p == self.workdir or p.startswith(inside)
                           or not p.startswith(os.sep)]:
                del cache[cached]
        del self.violations[:]
        self.new_output()  # what was printed since the last reply belongs to no exercise
        if left:
            return {"kind": "error", "message": f"could not remove {len(left)} files of the last exercise"}
        return {"kind": "value", "value": "reset"}

    def _added_modules(self) -> list[tuple[str, Any]]:
        """The modules that may be the learner's, by name: those imported since the worker
        began, as the import guard recorded them, where they account for every module there
        is now (by count); else every module (learner code put one in sys.modules by hand,
        or deleted one, which the scan refuses). Not every module each time: reading one
        writes to it (its reference count), and reading them all copied ~1,500 of the
        zygote's pages into each worker (~6 MB; measured with the faults of a forked worker)."""
        imported, found = self.imported, None
        if imported is not None:
            names = [name for name in imported if name in sys.modules]
            if len(sys.modules) == len(self.modules) + sum(name not in self.modules for name in names):
                found = [(name, sys.modules[name]) for name in names]
            imported.clear()
        if found is not None:
            return found
        found = list(sys.modules.items())
        if any(type(name) is not str for name, _ in found):
            # A key of learner code's, whose own __hash__ and __eq__ would run here, outside
            # the guards, the moment the dict looked for it: the dict is rebuilt without it.
            found = [(name, module) for name, module in found if type(name) is str]
            sys.modules.clear()
            sys.modules.update(found)
        return found

    def new_output(self) -> str:
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fstat(self.output.fileno()).st_size == self.output_pos:  # nothing printed: one system call, not four
            return ""
        self.output.seek(self.output_pos)
        text = self.output.read(MAX_OUTPUT + 1)
        self.output_pos = self.output.seek(0, os.SEEK_END)
        return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + "\n[... output cut]"


def execute(module: types.ModuleType, drivers: dict[str, Callable[..., Any]], request: dict[str, Any],
            learner_code: LearnerCode = _unguarded, forbid: list[str] | None = None,
            violations: list[str] | None = None) -> dict[str, Any]:
    """Run one call or driver request against the learner's module; plain data back.

    A driver runs entirely as learner code (it calls the learner's functions), so the
    exercise's forbidden calls are refused inside it too.
    """
    forbid = forbid or []
    if request["op"] == "drive":
        driver = drivers.get(request["driver"])
        if driver is None:
            return {"kind": "error", "message": f"the grader has no driver {request['driver']!r}"}
        with learner_code(forbid):
            # Made plain data here, while the guards are on: what the learner's objects do
            # when read or let go of (a str subclass's methods, a __del__) runs guarded.
            return plain({"kind": "value", "value": driver(module, **_wire.tensors_in(request["params"]))})
    if request["op"] != "call":
        return {"kind": "error", "message": f"unknown op {request['op']!r}"}
    device = request.get("device", "cpu")
    args = [to_device(a, device) for a in request["args"]]
    kwargs = {k: to_device(v, device) for k, v in request["kwargs"].items()}
    grad_wrt = request.get("grad_wrt", ())
    for index in grad_wrt:
        args[index] = _REQUIRES_GRAD(_DETACH(args[index]), True)
    given = _snapshot(args, kwargs)
    # The backward pass runs learner code too (custom Functions, hooks); a check that asks
    # for gradients needs autograd's graph even where the exercise forbids asking autograd.
    with learner_code(forbid, graph=bool(grad_wrt)):
        function: Any = module
        for name in request["function"].split("."):  # "CrossEntropyFunction.apply": a class's method
            function = getattr(function, name)
        out = function(*args, **kwargs)
        reply = _results.describe(out)
        if grad_wrt and reply["kind"] == "tensor":
            reply["grads"] = _results.gradients(out, [args[i] for i in grad_wrt], _wire.tensors_in(request.get("grad_output")))
        changed = _changed(given)  # with our own operations: never refused, never replaced
        if violations is not None and any(type(now) is not torch.Tensor for _, now, _ in given):
            violations.append("the class of a tensor it was given (changed in place, to hide what it did): the "
                              "grader's own checks of its inputs would run that class's code")
        del out, function, args, kwargs  # what the learner attached to them goes now, guarded
    if changed:
        reply = {"kind": "error", "message": f"{INPUT_CHANGED} ({changed}): a function must leave the tensors it "
                 "is given as they are, since the caller still uses them (its model's predictions, its labels); "
                 "compute on new tensors (input - target, x.clone()) instead of x -= ..., x.sub_(...) or "
                 "x[...] = ..."}
    return reply


INPUT_CHANGED = "changed a tensor it was given in place"


def _snapshot(args: list[Any], kwargs: dict[str, Any]) -> list[tuple[int | str, torch.Tensor, torch.Tensor]]:
    """(its position or keyword, the tensor, a copy of it) for every tensor argument."""
    given: list[tuple[int | str, torch.Tensor, torch.Tensor]] = [
        (index, value, _CLONE(_DETACH(value))) for index, value in enumerate(args) if type(value) is torch.Tensor]
    if kwargs:
        given += [(key, value, _CLONE(_DETACH(value))) for key, value in kwargs.items() if type(value) is torch.Tensor]
    return given


def _changed(given: list[tuple[int | str, torch.Tensor, torch.Tensor]]) -> str:
    """The places ("argument 1", "`weight`") whose tensor the call changed (its values,
    shape, dtype or class), comma-separated; ''."""
    found = []
    for place, now, before in given:
        if type(now) is torch.Tensor:  # its class changed in place, else
            now = _DETACH(now)
            if now.shape == before.shape and now.dtype == before.dtype and (
                    _EQUAL(now, before)  # the common case in one operator; NaNs, which never equal, go on below
                    or not before.numel()
                    or (before.is_floating_point() or before.is_complex())
                    and bool(_ALL(_EQ(now, before) | (_ISNAN(now) & _ISNAN(before))))):
                continue
        found.append(f"argument {place + 1}" if type(place) is int else f"`{place}`")
    return ", ".join(found)


def encode_reply(reply: dict[str, Any]) -> bytes:
    """The reply's bytes; what cannot be sent (an integer past 64 bits, say) is said instead."""
    try:
        return _wire.encode(reply)
    except (TypeError, ValueError, OverflowError, RuntimeError) as exc:
        return _wire.encode({"kind": "error", "violations": reply.get("violations", []), "output": reply.get("output", ""),
                             "message": f"returned something that is not plain data ({exc})"})


def to_device(value: Any, device: str) -> Any:
    """A call's argument with its tensors on `device`: each a tensor object of our own, even
    where .to() would hand back the request's; a request's tensor bytes made tensors."""
    if type(value) is bytes:  # a fresh tensor of ours on the CPU: moved only to another device
        return _wire.tensor_of(value) if device == "cpu" else _TO(_wire.tensor_of(value), device)
    if isinstance(value, torch.Tensor):
        return _TO(_DETACH(value) if not value.requires_grad else value, device)
    if isinstance(value, (list, tuple)):
        return type(value)(to_device(v, device) for v in value)
    return value


DRIVERS = _drivers_loader.import_drivers()
MODULES_AT_FORK: dict[str, Any] | None = None  # see remember_modules


def remember_modules() -> None:
    """The zygote's modules, as every worker it forks from now on starts with them: taken
    once, in the zygote, for `Worker.reset` (modules a worker imports before any learner
    code are kept by `reset` too: they have files of their own, outside its folder)."""
    global MODULES_AT_FORK
    MODULES_AT_FORK = dict(sys.modules)

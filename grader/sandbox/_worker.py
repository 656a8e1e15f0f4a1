"""The untrusted side of the sandbox: a zygote that imports torch once and forks one worker
per learner module, each serving requests from the grader over its own socket.

This file is run as a script (`python -I _worker.py FD`) and imports nothing from lossgrade,
so a worker holds no reference solution, no check and no result in its memory: a learner
who searches `sys.modules` or `gc.get_objects()` finds only torch and this file. Everything
a worker sends back is treated as untrusted data by the grader, which loads it with
`torch.load(weights_only=True)` and decides every verdict itself.

Protocol (both directions): an 8-byte big-endian length, then the payload. Grader to
worker: a pickle (trusted data). Worker to grader: `torch.save` of plain containers,
numbers, strings and tensors.
"""
from __future__ import annotations

import ctypes
import io
import json
import os
import pickle
import resource
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
import traceback
import types
from typing import Any, Callable

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
NOBODY = 65534
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
# Names a learner may not import: the grader, the reference solutions, this sandbox.
BLOCKED_IMPORTS = ("lossgrade", "grader", "solutions", "_worker", "_drivers")
MAX_OUTPUT = 4000  # characters of printed output returned per request


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


# ---------------------------------------------------------------------- run-time guards
class Guards:
    """Forbidden torch calls and blocked imports, detected when they happen.

    Every candidate torch function is wrapped once, in the zygote; a wrapper only objects
    while learner code of an exercise that forbids it is running (`active`), so torch's
    own internals and our drivers are unaffected. A forbidden call records its name and
    raises instead of computing anything, so catching the exception gains nothing.
    """

    def __init__(self) -> None:
        self.active: frozenset[str] = frozenset()
        self.violations: list[str] = []
        self.wrapped: set[str] = set()

    def wrap(self, dotted: str) -> None:
        if dotted in self.wrapped:
            return
        owner_path, _, attr = dotted.rpartition(".")
        owner: Any = _resolve(owner_path)
        if owner is None or not hasattr(owner, attr):
            return
        original = getattr(owner, attr)
        if isinstance(original, type):  # a module class such as nn.CrossEntropyLoss
            owner, attr, original = original, "forward", original.forward
        guards = self

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if dotted in guards.active:
                guards.violations.append(dotted)
                raise RuntimeError(f"lossgrade: calling {dotted} is not allowed in this exercise")
            return original(*args, **kwargs)

        guarded.__name__ = getattr(original, "__name__", attr)
        guarded.__doc__ = getattr(original, "__doc__", None)
        setattr(owner, attr, guarded)
        self.wrapped.add(dotted)

    # A meta-path finder: blocked names never import, and the attempt is recorded.
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] in BLOCKED_IMPORTS:
            self.violations.append(f"import {name}")
            raise ImportError(f"lossgrade: learner code may not import {name}")
        return None


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    obj: Any = sys.modules.get(parts[0])
    for part in parts[1:]:
        obj = getattr(obj, part, None)
    return obj


GUARDS = Guards()


# ------------------------------------------------------------------------------ worker
class Worker:
    """Serves one learner module: load it, then answer call and driver requests."""

    def __init__(self, sock: socket.socket, workdir: str) -> None:
        self.sock = sock
        self.workdir = workdir
        self.module: types.ModuleType | None = None
        self.output = open(os.path.join(workdir, ".output"), "a+", encoding="utf-8", errors="replace")
        self.output_pos = 0
        self.drivers: dict[str, Callable[..., Any]] = {}

    def serve(self) -> None:
        while True:
            frame = read_frame(self.sock)
            if frame is None:
                return
            request = pickle.loads(frame)
            GUARDS.active = frozenset(request.get("forbid", ()))
            try:
                reply = self.handle(request)
            except BaseException as exc:  # anything the learner raised, SystemExit included
                reply = self.raised(exc)
            finally:
                GUARDS.active = frozenset()
            reply["violations"] = list(GUARDS.violations)
            reply["output"] = self.new_output()
            buffer = io.BytesIO()
            torch.save(reply, buffer)
            write_frame(self.sock, buffer.getvalue())

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "load":
            return self.load(request)
        if self.module is None:
            return {"kind": "error", "message": "no module loaded"}
        return execute(self.module, self.drivers, request)

    def load(self, request: dict[str, Any]) -> dict[str, Any]:
        for name, source in request["files"].items():
            with open(os.path.join(self.workdir, os.path.basename(name)), "w", encoding="utf-8") as f:
                f.write(source)
        self.module = __import__(request["module"])
        missing = [f for f in request["functions"] if not callable(getattr(self.module, f, None))]
        return {"kind": "loaded", "missing": missing}

    def raised(self, exc: BaseException) -> dict[str, Any]:
        return describe_exception(exc, self.workdir)

    def new_output(self) -> str:
        sys.stdout.flush()
        sys.stderr.flush()
        self.output.seek(self.output_pos)
        text = self.output.read(MAX_OUTPUT + 1)
        self.output_pos = self.output.seek(0, os.SEEK_END)
        return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + "\n[... output cut]"


def execute(module: types.ModuleType, drivers: dict[str, Callable[..., Any]], request: dict[str, Any]) -> dict[str, Any]:
    """Run one call or driver request against the learner's module; plain data back."""
    if request["op"] == "drive":
        return {"kind": "value", "value": drivers[request["driver"]](module, **request["params"])}
    if request["op"] != "call":
        return {"kind": "error", "message": f"unknown op {request['op']!r}"}
    device = request.get("device", "cpu")
    args = [to_device(a, device) for a in request["args"]]
    kwargs = {k: to_device(v, device) for k, v in request["kwargs"].items()}
    grad_wrt = request.get("grad_wrt", ())
    for index in grad_wrt:
        args[index] = args[index].detach().requires_grad_(True)
    function = getattr(module, request["function"])
    started = time.perf_counter()
    out = function(*args, **kwargs)
    elapsed = time.perf_counter() - started
    GUARDS.active = frozenset()
    reply = describe(out)
    reply["seconds"] = elapsed
    if grad_wrt and reply["kind"] == "tensor":
        reply["grads"] = gradients(out, [args[i] for i in grad_wrt], request.get("grad_output"))
    return reply


def gradients(out: Any, inputs: list[torch.Tensor], grad_output: Any) -> Any:
    if not out.requires_grad:
        return "the result is not connected to the inputs' autograd graph"
    weight = torch.ones_like(out) if grad_output is None else grad_output.to(out.device, out.dtype)
    try:
        grads = torch.autograd.grad(out, inputs, weight, allow_unused=True)
    except Exception as exc:  # noqa: BLE001 - any failure of the learner's graph
        return f"backward failed: {type(exc).__name__}: {exc}"
    return [None if g is None else g.detach().cpu() for g in grads]


def describe_exception(exc: BaseException, workdir: str) -> dict[str, Any]:
    """What the learner's code raised, with only the learner's own frames as context."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if os.path.dirname(os.path.abspath(f.filename)) == workdir
    ]
    where = "".join(traceback.format_list(frames[-3:]))
    return {
        "kind": "raised",
        "type": type(exc).__name__,
        "mro": [cls.__name__ for cls in type(exc).__mro__],
        "message": str(exc)[:1000],
        "where": where.replace(workdir + os.sep, ""),
        "line": exc.lineno if isinstance(exc, SyntaxError) else (frames[-1].lineno if frames else None),
    }


def to_device(value: Any, device: str) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, (list, tuple)):
        return type(value)(to_device(v, device) for v in value)
    return value


def describe(out: Any) -> dict[str, Any]:
    """Plain data describing what the learner's function returned."""
    if isinstance(out, torch.Tensor):
        if type(out) is not torch.Tensor:
            return {"kind": "other", "type": f"a subclass of torch.Tensor ({type(out).__name__})"}
        return {
            "kind": "tensor",
            "value": torch.Tensor.detach(out).cpu().clone(),
            "device": str(out.device),
            "requires_grad": bool(out.requires_grad),
        }
    if type(out) in (int, float, bool) or out is None:
        return {"kind": "python", "value": out}
    return {"kind": "other", "type": type(out).__name__}


# ------------------------------------------------------------------ the worker's jail
def enter_jail(workdir: str, limits: dict[str, int]) -> None:
    """Everything a forked worker does before it runs one line of learner code."""
    os.setsid()  # its own process group, so the grader can kill it and its children
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getuid() == 0:  # never run learner code as root: drop to nobody
        os.chown(workdir, NOBODY, NOBODY)
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(
        {"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1"}
    )
    mebi = 1 << 20
    vm_size = _vm_size()
    settings = {
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_FSIZE: limits["file_mib"] * mebi,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NOFILE: 256,
    }
    if limits["memory_mib"] and not torch.cuda.is_available():
        settings[resource.RLIMIT_AS] = vm_size + limits["memory_mib"] * mebi
    if os.getuid() == NOBODY:  # the process count is per user: only binding as nobody
        settings[resource.RLIMIT_NPROC] = limits["processes"]
    for which, value in settings.items():
        resource.setrlimit(which, (value, value))
    output = os.open(os.path.join(workdir, ".output"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.path[:] = [workdir] + [p for p in sys.path if p not in ("", HERE)]
    sys.meta_path.insert(0, GUARDS)  # type: ignore[arg-type]
    sys.dont_write_bytecode = True


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


# ------------------------------------------------------------------------------ zygote
class Zygote:
    """Forks workers on request and reaps them, killing whatever they leave behind.

    As a child subreaper it inherits every orphan a worker leaves (a child that outlives
    its parent, a double fork), and kills it as soon as the worker is gone.
    """

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.workers: dict[int, str] = {}  # pid -> its temporary folder
        self.statuses: dict[int, int] = {}
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        signal.signal(signal.SIGCHLD, lambda *_: self.reap())

    def serve(self) -> None:
        while True:
            message, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 1)
            if not message:
                self.shutdown()
                return
            request = json.loads(message)
            if request["op"] == "fork":
                reply = {"pid": self.fork(fds[0], request)}
            elif request["op"] == "status":
                self.reap()
                reply = {"status": self.statuses.get(request["pid"])}
            else:
                reply = {"error": f"unknown op {request['op']!r}"}
            self.control.sendall(json.dumps(reply).encode() + b"\n")

    def fork(self, fd: int, request: dict[str, Any]) -> int:
        workdir = tempfile.mkdtemp(prefix="lossgrade-worker-")
        # SIGCHLD waits until the new pid is registered: otherwise a reap in between
        # would take the newborn worker for an orphan and kill it.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
                self.control.close()
                sock = socket.socket(fileno=fd)
                enter_jail(workdir, request["limits"])
                worker = Worker(sock, workdir)
                worker.drivers = DRIVERS
                worker.serve()
            except BaseException:  # noqa: BLE001 - a worker never returns into the zygote
                code = 70
            finally:
                os._exit(code)
        os.close(fd)
        self.workers[pid] = workdir
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        return pid

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in self.workers:
                self.statuses[pid] = status
                _kill_group(pid)
                shutil.rmtree(self.workers.pop(pid), ignore_errors=True)
        self.kill_orphans()

    def kill_orphans(self) -> None:
        """Kill every child that is not a live worker: orphans reparented to us."""
        me = str(os.getpid())
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in self.workers:
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    pass

    def shutdown(self) -> None:
        for pid in list(self.workers):
            _kill_group(pid)
        for workdir in self.workers.values():
            shutil.rmtree(workdir, ignore_errors=True)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _import_drivers() -> dict[str, Callable[..., Any]]:
    """The drivers (trusted harness code that runs beside learner code, such as a training
    step on a model built here) come from `_drivers.py`, loaded before any learner code."""
    path = os.path.join(HERE, "_drivers.py")
    if not os.path.exists(path):
        return {}
    namespace: dict[str, Any] = {"__name__": "lossgrade_drivers"}
    with open(path, encoding="utf-8") as source:
        exec(compile(source.read(), path, "exec"), namespace)  # noqa: S102 - our own file
    return dict(namespace.get("DRIVERS", {}))


def warm_up(parts: list[str]) -> None:
    """Pay torch's lazy initialisation (autograd, serialisation and, when asked for,
    optimizers, whose first construction costs ~2 s) once here, not in every worker."""
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    loss = torch.nn.functional.cross_entropy(model(torch.randn(5, 3)), torch.tensor([0, 1, 0, 1, 1]))
    loss.backward()
    if "optim" in parts:
        for optimizer in (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), torch.optim.Adam(model.parameters())):
            optimizer.step()
            optimizer.zero_grad()
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    torch.autograd.grad((x.exp() * x).sum(), [x])
    # Explicit grad_outputs make autograd import sympy for its shape checks (~0.7 s): pay
    # that here once, not in the first gradient request of every worker.
    y = x * 2
    torch.autograd.grad(y, [x], torch.ones_like(y), allow_unused=True)
    buffer = io.BytesIO()
    torch.save({"x": x.detach(), "grads": [None]}, buffer)
    torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    torch.set_num_threads(1)
    options = json.loads(sys.argv[2])
    warm_up(options["warm"])
    for dotted in options["forbidden"]:
        GUARDS.wrap(dotted)
    control.sendall(b'{"ready": true}\n')
    Zygote(control).serve()


DRIVERS = _import_drivers()

if __name__ == "__main__":
    main()

"""The trusted side of the sandbox: start the zygote, fork workers, exchange requests.

A `Sandbox` owns one zygote process (see `_zygote.py`), which imports torch once and forks
a fresh worker per learner module in about 20 ms. A `LearnerModule` is the grader's handle
on one learner file inside a worker: every call crosses a socket with a deadline, every
reply is read as plain data (`_wire.py`) and validated here, and a worker that
hangs, crashes or exceeds a limit is killed with its process group and replaced for the
next request. When the grader runs as root, each worker runs as a uid of its own, so that
no worker can signal, trace or write into another, or into the grader.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lossgrade.sandbox.replies import Reply, crashed, timed_out, unsafe, validate

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

SANDBOX_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = SANDBOX_DIR.parent
ZYGOTE_SCRIPT = SANDBOX_DIR / "_zygote.py"
WORKER_SCRIPT = SANDBOX_DIR / "_worker.py"
MAX_REPLY_BYTES = 64 << 20
MAX_OPTIONS = 200_000  # bytes of settings sent to the zygote in one packet (paths, the drivers' text)
NOBODY = 65534
# Workers' own uids when the grader is root: 2**31 + (zygote pid << 8) + a slot, a range no
# distribution gives to users, distinct for every zygote alive at once (pids < 2**22).
UID_BASE, UID_SPAN, UID_SLOTS = 1 << 31, 1 << 30, 256
STARTUP_SECONDS = 120.0  # the zygote imports torch; a slow CI machine takes a while
CONTROL_SECONDS = 30.0


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker (CPU time and memory cover its whole life)."""

    call_seconds: float = 10.0  # wall time of one request
    cpu_seconds: int = 300
    memory_mib: int = 3072  # address space on top of what torch already maps
    file_mib: int = 16  # the size of any one file it writes
    processes: int = 32  # processes and threads, beyond those its uid already runs
    budget_seconds: float = 120.0  # wall time of all the calls of one submission (see `submission_budget`)

    def for_zygote(self) -> dict[str, int]:
        return {"cpu_seconds": self.cpu_seconds, "memory_mib": self.memory_mib,
                "file_mib": self.file_mib, "processes": self.processes}


@dataclass
class Budget:
    """The time a submission's calls may still take, across all its exercises and checks."""

    seconds: float
    used: float = 0.0

    def left(self) -> float:
        return self.seconds - self.used

    def spent(self) -> Reply:
        return Reply(kind="timeout", message=f"the submission's time budget of {self.seconds:g} s ran out before this "
                                             f"check could finish (all its calls together; `--budget` sets it)")


_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("lossgrade_budget", default=None)


@contextlib.contextmanager
def submission_budget(seconds: float | None) -> Iterator[Budget | None]:
    """Within this block, every call to a worker counts against one budget of `seconds`
    (None: no budget); once it is spent, the remaining calls fail at once, saying so."""
    budget = Budget(seconds) if seconds is not None else None
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the learner's code): the grader cannot go on."""


@dataclass
class Sandbox:
    """One zygote and the workers it forks. Start it early: its torch import overlaps
    with the grader's own.

    `hidden_paths` (the reference solutions always among them) are files and folders that
    learner code may not read: refused by the worker's guards, and in the strong mode
    replaced by empty folders, as is the rest of the lossgrade package.
    """

    forbidden: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    strong: bool = False
    hidden_paths: tuple[Path, ...] = ()
    warm: tuple[str, ...] = ()  # costly torch parts to initialise once, e.g. "optim"
    gpu: bool | None = None  # whether workers may use a GPU; None: whether this machine has one
    drivers: dict[str, str] = field(default_factory=dict)  # a course's drivers files' text, by exercise module

    def __post_init__(self) -> None:
        check_reachable_by_workers()
        if self.strong:
            from lossgrade.sandbox import strong

            usable, why = strong.available()
            if not usable:
                raise SandboxError(f"the strong sandbox cannot run here: {why}")
        self._lock = threading.Lock()
        self._spawned = 0
        self._control, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        hidden = hidden_folders(self.hidden_paths)
        # Sent on the control socket, not in argv, where every worker would read them.
        options = {"forbidden": list(self.forbidden), "warm": list(self.warm), "hidden": [str(p) for p in hidden],
                   "forbidden_paths": [str(p) for p in (*hidden, *private_folders())], "gpu": self.gpu,
                   "strong": self.strong, "drivers": dict(self.drivers)}
        message = json.dumps(options).encode()
        if len(message) > MAX_OPTIONS:
            self._control.close()
            child_end.close()
            raise SandboxError(f"the sandbox's settings take {len(message)} bytes, more than the {MAX_OPTIONS} it "
                               "accepts: are the course's drivers files that large?")
        command = [sys.executable, "-I", str(ZYGOTE_SCRIPT), str(child_end.fileno())]
        if not self.strong:  # bwrap makes the pid namespace in the strong mode
            command.append("own-namespace")
        if self.strong:
            # Only what the zygote needs is bound in (never a checkout): the package's own code
            # comes back as sandbox/ alone, which Landlock then closes to every worker.
            command = strong.wrap_command(command, hide=(*hidden, PACKAGE_DIR), expose=(SANDBOX_DIR,), gpu=self.gpu)
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - the zygote's stderr for its life: a file never blocks it
        self._process = subprocess.Popen(
            command,
            pass_fds=[child_end.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
                 **{k: v for k, v in os.environ.items() if k == "CUDA_VISIBLE_DEVICES"}},
            start_new_session=True,
        )
        child_end.close()
        try:
            self._control.send(message)
        except OSError as exc:
            raise SandboxError(f"the sandbox's zygote process could not be started ({exc})") from None
        self.kernel: dict[str, Any] = {}  # what the kernel enforces (see `walls`), once the zygote is ready
        self._uid_block = UID_BASE + ((self._process.pid & 0x3FFFFF) << 8) if own_uids_available() else None
        self._ready = False

    @property
    def pid(self) -> int:
        """The process the grader started: the zygote, or bwrap around it."""
        return self._process.pid

    def own_processes(self) -> set[int]:
        """The sandbox's own processes below `pid` (host pids): in the default mode, the
        process that made the pid namespace and the zygote, pid 1 inside it; none in the
        strong mode, where bwrap's are its own business. Workers are not among them."""
        found: set[int] = set()
        if self.strong:
            return found
        parent = self._process.pid
        for _ in range(2):
            children = _children(parent)
            if len(children) != 1:
                break
            parent = children[0]
            found.add(parent)
        return found

    @property
    def uids(self) -> range | None:
        """The uids its workers run as, when each has its own (the grader runs as root)."""
        return None if self._uid_block is None else range(self._uid_block, self._uid_block + UID_SLOTS)

    # --- the control channel ----------------------------------------------------------------
    def _ask(self, request: dict[str, Any], fds: tuple[int, ...] = ()) -> dict[str, Any]:
        with self._lock:
            self._wait_ready()
            data = json.dumps(request).encode()
            try:
                if fds:
                    socket.send_fds(self._control, [data], list(fds))
                else:
                    self._control.send(data)
            except OSError as exc:
                raise self._stopped(f"({exc})") from None
            return self._receive(CONTROL_SECONDS)

    def _receive(self, seconds: float) -> dict[str, Any]:
        self._control.settimeout(seconds)
        try:
            packet = self._control.recv(1 << 16)
        except TimeoutError:
            raise self._stopped(f"(no answer within {seconds:g} s)") from None
        except OSError as exc:
            raise self._stopped(f"({exc})") from None
        if not packet:
            raise self._stopped("")
        reply: dict[str, Any] = json.loads(packet)
        return reply

    def _stopped(self, why: str) -> SandboxError:
        self._log.seek(0)
        error = self._log.read().decode(errors="replace").strip()[-800:]
        return SandboxError(f"the sandbox's zygote process stopped answering {why}: {error}".strip())

    def _wait_ready(self) -> None:
        if not self._ready:
            self.kernel = self._receive(STARTUP_SECONDS)
            self._ready = True

    def walls(self) -> dict[str, Any]:
        """What the kernel enforces on every worker: {"landlock": ABI or 0, "seccomp": bool,
        "pid_namespace": bool (every process a worker starts dies with the zygote)}."""
        self.wait_ready()
        return {"landlock": int(self.kernel.get("landlock", 0)), "seccomp": bool(self.kernel.get("seccomp")),
                "pid_namespace": bool(self.kernel.get("pid_namespace"))}

    def wait_ready(self) -> None:
        with self._lock:
            self._wait_ready()

    # --- workers ----------------------------------------------------------------------------
    def spawn(self, limits: Limits | None = None) -> Worker:
        """Fork a fresh worker, connected to us by its own socket."""
        limits = limits or self.limits
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        settings = {**limits.for_zygote(), "nproc_base": 0 if os.geteuid() == 0 else tasks_of(os.getuid())}
        try:
            reply = self._ask({"op": "fork", "limits": settings, "uid": self._next_uid()}, (theirs.fileno(),))
        finally:
            theirs.close()
        return Worker(pid=int(reply["pid"]), sock=ours, sandbox=self)

    def _next_uid(self) -> int:
        if self._uid_block is None:
            return NOBODY
        self._spawned += 1
        return self._uid_block + self._spawned % UID_SLOTS

    def end(self, pid: int, grace: float) -> tuple[int | None, bool]:
        """Have the zygote reap worker `pid`, killing it after `grace` seconds:
        (its wait status or None, whether it had to be killed)."""
        reply = self._ask({"op": "end", "pid": pid, "grace": grace})
        return reply.get("status"), bool(reply.get("killed"))

    def alone(self, pid: int) -> bool:
        """Whether worker `pid` is alive, one thread and has no process below it, nor left
        one behind, as the zygote sees it: whether it may serve its learner's next exercise."""
        return bool(self._ask({"op": "alone", "pid": pid}).get("alone"))

    def close(self) -> None:
        try:
            self._control.close()  # the zygote sees end-of-file, kills its workers and exits
            self._process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self._process.pid, 9)
        except OSError:
            pass
        self._process.wait()
        self._log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Worker:
    pid: int  # as the zygote sees it (in the strong mode, inside its pid namespace)
    sock: socket.socket
    sandbox: Sandbox
    alive: bool = True

    def request(self, message: dict[str, Any], timeout: float) -> Reply:
        """Send one request; the reply, or why none came (timeout, crash, unsafe data)."""
        return self.exchange(message, 1, timeout)[0]

    def exchange(self, message: dict[str, Any], replies: int, timeout: float) -> list[Reply]:
        """Send one request and read `replies` replies to it (several for a "calls" request),
        each within `timeout` of the one before. Sending and receiving share the deadline:
        a worker that stops reading cannot block the grader either. Once one reply says
        why none came, or forges its data, it stands for the rest too: the worker is gone."""
        budget = _BUDGET.get()
        if budget is None:
            return self._exchange(message, replies, timeout)
        if budget.left() <= 0:
            return [budget.spent()] * replies
        started = time.monotonic()
        try:
            got = self._exchange(message, replies, min(timeout, budget.left()))
        finally:
            budget.used += time.monotonic() - started
        return [budget.spent() if r.kind == "timeout" and budget.left() <= 0 else r for r in got]

    def _exchange(self, message: dict[str, Any], replies: int, timeout: float) -> list[Reply]:
        # Imported here: it imports torch, which must wait until a request needs it.
        from lossgrade.sandbox import _wire

        deadline = time.monotonic() + timeout
        got: list[Reply] = []
        try:
            payload = _wire.encode(message)
            self._settimeout(deadline)
            self.sock.sendall(struct.pack(">Q", len(payload)) + payload)
            while len(got) < replies:
                reply = validate(self._read_frame(deadline))
                got.append(reply)
                if reply.kind == "unsafe":
                    self.kill()  # it forged its reply: nothing else it sends can be trusted in order
                    break
                deadline = time.monotonic() + timeout
        except TimeoutError:
            self.kill()
            got.append(timed_out(timeout))
        except (OSError, EOFError):
            got.append(self._died())
        except ValueError as exc:
            self.kill()
            got.append(unsafe(str(exc)))
        return got + [got[-1]] * (replies - len(got))

    def stream(self, message: dict[str, Any], replies: int, timeout: float, encoded: bytes | None = None) -> Stream:
        """Send a "calls" request of `replies` calls, whose replies are then read one at a
        time, as the grader needs them (`Stream.next`), while the worker goes on with the
        next calls; `Stream.stop` has it skip the calls it has not begun, once the grader
        needs no more (a check has failed). `encoded`: `message`'s bytes, where the caller
        has them already."""
        from lossgrade.sandbox import _wire

        stream = Stream(self, replies, timeout)
        budget = _BUDGET.get()
        if budget is not None and budget.left() <= 0:
            stream.failed = budget.spent()
            return stream
        try:
            payload = _wire.encode(message) if encoded is None else encoded
            self._settimeout(time.monotonic() + timeout)
            self.sock.sendall(struct.pack(">Q", len(payload)) + payload)
        except TimeoutError:
            self.kill()
            stream.failed = timed_out(timeout)
        except (OSError, EOFError):
            stream.failed = self._died()
        return stream

    def _next_reply(self, timeout: float) -> Reply:
        """One reply to a request already sent, within `timeout`; a worker that does not
        send one, or sends one that cannot be read, is ended (see `_exchange`)."""
        try:
            reply = validate(self._read_frame(time.monotonic() + timeout))
            if reply.kind == "unsafe":
                self.kill()
            return reply
        except TimeoutError:
            self.kill()
            return timed_out(timeout)
        except (OSError, EOFError):
            return self._died()
        except ValueError as exc:
            self.kill()
            return unsafe(str(exc))

    def _settimeout(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)

    def _read_frame(self, deadline: float) -> bytes:
        header = self._read_exact(8, deadline)
        (size,) = struct.unpack(">Q", header)
        if size > MAX_REPLY_BYTES:
            raise ValueError(f"the reply was {size} bytes, more than the {MAX_REPLY_BYTES} allowed")
        return self._read_exact(size, deadline)

    def _read_exact(self, size: int, deadline: float) -> bytes:
        chunks, remaining = [], size
        while remaining:
            self._settimeout(deadline)
            chunk = self.sock.recv(min(remaining, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _died(self) -> Reply:
        """The connection broke: the worker ended, or closed it and would go on running."""
        self.alive = False
        self.sock.close()
        status, killed = self.sandbox.end(self.pid, grace=1.0)
        return crashed(status, killed)

    def kill(self) -> None:
        if self.alive:
            self.alive = False
            self.sock.close()
            try:
                self.sandbox.end(self.pid, grace=0.0)
            except SandboxError:
                pass  # the zygote is gone, and its workers died with it


STOP_SECONDS = 1.0  # for a worker told to stop a batch to answer the calls it has not begun


@dataclass
class Stream:
    """The replies to one "calls" request, read in order as they are needed (`Worker.stream`).
    Each reply counts against the submission's budget like a call of its own; once one says
    why none came (timeout, crash, unsafe data), it stands for the rest: the worker is gone."""

    worker: Worker
    count: int
    timeout: float
    read: int = 0
    failed: Reply | None = None

    def next(self) -> Reply:
        if self.read >= self.count:
            raise IndexError("every reply of this request has been read")
        self.read += 1
        if self.failed is not None:
            return self.failed
        budget = _BUDGET.get()
        if budget is None:
            reply = self.worker._next_reply(self.timeout)
        elif budget.left() <= 0:
            reply = budget.spent()
            self.worker.kill()  # it would go on with calls nobody reads
        else:
            started = time.monotonic()
            try:
                reply = self.worker._next_reply(min(self.timeout, budget.left()))
            finally:
                budget.used += time.monotonic() - started
            if reply.kind == "timeout" and budget.left() <= 0:
                reply = budget.spent()
        if not self.worker.alive:
            self.failed = reply
        return reply

    @property
    def done(self) -> bool:
        return self.read >= self.count or self.failed is not None

    def stop(self) -> list[Reply]:
        """Tell the worker to skip the calls it has not begun, and read the replies still
        due: those of the calls it had run ahead with, and one saying "skipped" for each of
        the others. A worker that does not answer within STOP_SECONDS (a call that hangs),
        or within what is left of the submission's budget, against which the wait counts
        (it is the learner's code that runs), is ended."""
        if self.done:
            return []
        rest: list[Reply] = []
        budget = _BUDGET.get()
        started = time.monotonic()
        deadline = started + (STOP_SECONDS if budget is None else max(0.0, min(STOP_SECONDS, budget.left())))
        worker = self.worker
        try:
            worker._settimeout(deadline)
            worker.sock.sendall(STOP_FRAME)
            while self.read + len(rest) < self.count:
                rest.append(validate(worker._read_frame(deadline)))
        except (TimeoutError, OSError, EOFError, ValueError):
            worker.kill()
        finally:
            if budget is not None:
                budget.used += time.monotonic() - started
        self.read = self.count
        if any(r.kind == "unsafe" for r in rest):
            worker.kill()
        return rest


def _stop_frame() -> bytes:
    payload = b"d" + struct.pack(">I", 1) + _text_frame("op") + _text_frame("stop")  # {"op": "stop"} in _wire's format
    return struct.pack(">Q", len(payload)) + payload


def _text_frame(text: str) -> bytes:
    data = text.encode()
    return b"s" + struct.pack(">I", len(data)) + data


STOP_FRAME = _stop_frame()


def hidden_folders(extra: tuple[Path, ...]) -> tuple[Path, ...]:
    """The real paths of the reference solutions and of `extra`, those that exist."""
    from lossgrade import course

    found: list[Path] = []
    for path in (course.solutions_dir(), *extra):
        real = Path(os.path.realpath(path))
        if real.exists() and real not in found:
            found.append(real)
    return tuple(found)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def private_folders() -> tuple[Path, ...]:
    """Folders no worker may read, whichever holds the reference solutions: the lossgrade
    package, the course's folder and, for a checkout, the whole checkout (its examples,
    its .git)."""
    from lossgrade import course

    found = {PACKAGE_DIR, course.solutions_dir().parent}
    for folder in (PACKAGE_DIR.parent, course.solutions_dir().parent.parent):
        if (folder / "pyproject.toml").exists() or (folder / ".git").exists():
            found.add(folder)
    return tuple(sorted(Path(os.path.realpath(p)) for p in found))


def own_uids_available() -> bool:
    """Root can give each worker a uid of its own when this user namespace maps the range
    (a container's namespace may map only a few thousand ids; workers then share nobody)."""
    if os.geteuid() != 0:
        return False
    for table in ("/proc/self/uid_map", "/proc/self/gid_map"):
        try:
            rows = [tuple(map(int, line.split())) for line in Path(table).read_text().splitlines()]
        except (OSError, ValueError):
            return False
        if not any(inner <= UID_BASE and UID_BASE + UID_SPAN <= inner + count for inner, _, count in rows):
            return False
    return True


def tasks_of(uid: int) -> int:
    """Processes and threads that `uid` runs now: RLIMIT_NPROC counts them all, so a worker
    that shares the grader's uid gets its own allowance on top of them."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if line.startswith(("Uid:", "Threads:")))
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields["Threads"])
        except (OSError, KeyError, ValueError):
            continue
    return total


def check_reachable_by_workers() -> None:
    """As root, workers drop to uids of their own, who must be able to reach Python, torch
    and this sandbox: where a folder on the way lacks the execute bit for others, the
    workers' group alone is let through (see traversal.py); where that cannot be done
    (workers sharing `nobody`, a file system without ACLs), say which folder needs it."""
    if os.geteuid() != 0:
        return
    import importlib.util

    from lossgrade.sandbox import traversal

    torch_spec = importlib.util.find_spec("torch")
    paths = [Path(sys.executable).resolve(), ZYGOTE_SCRIPT, Path(sys.prefix).resolve()]
    if torch_spec and torch_spec.origin:
        paths.append(Path(torch_spec.origin).resolve())
    for folder in traversal.folders_above(paths):
        if not folder.exists() or traversal.grants_traversal(folder):
            continue
        why = "its workers share the user nobody here"
        if own_uids_available():
            try:
                traversal.grant_traversal(folder)
                continue
            except OSError as exc:
                why = f"its ACL could not be set ({exc.strerror})"
        raise SandboxError(
            f"learner code runs as an unprivileged user, who cannot enter {folder} and {why}; "
            f"allow it with `chmod o+x {folder}`"
        )

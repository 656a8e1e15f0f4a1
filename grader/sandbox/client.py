"""The trusted side of the sandbox: start the zygote and have it fork workers.

A `Sandbox` owns one zygote process (see `_zygote.py`), which imports torch once and forks
a fresh worker per learner module in about 20 ms. A `LearnerModule` is the grader's handle
on one learner file inside a worker: every call crosses the worker's socket with a
deadline, every reply is read as plain data (`_wire.py`) and validated (`connection.py`),
and a worker that hangs, crashes or exceeds a limit is killed with its process group and
replaced for the next request. When the grader runs as root, each worker runs as a uid of its own, so that
no worker can signal, trace or write into another, or into the grader.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lossgrade.core.errors import SandboxError
from lossgrade.sandbox.connection import Worker
from lossgrade.sandbox.host import (PACKAGE_DIR, SANDBOX_DIR, UID_BASE, UID_SLOTS, ZYGOTE_SCRIPT,
                                    check_reachable_by_workers, children, hidden_folders, own_uids_available,
                                    private_folders, tasks_of)

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

MAX_OPTIONS = 200_000  # bytes of settings sent to the zygote in one packet (paths, the drivers' text)
NOBODY = 65534
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
            below = children(parent)
            if len(below) != 1:
                break
            parent = below[0]
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

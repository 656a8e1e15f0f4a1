"""The trusted side of the sandbox: start the zygote, fork workers, exchange requests.

A `Sandbox` owns one zygote process (see `_worker.py`), which imports torch once and forks
a fresh worker per learner module in about 20 ms. A `LearnerModule` is the grader's handle
on one learner file inside a worker: every call crosses a socket, every reply is loaded
with `torch.load(weights_only=True)` and validated here, and a worker that hangs, crashes
or exceeds a limit is killed with its process group and replaced for the next request.
"""
from __future__ import annotations

import json
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossgrade.sandbox.replies import Reply, crashed, timed_out, unsafe, validate

WORKER_SCRIPT = Path(__file__).with_name("_worker.py")
MAX_REPLY_BYTES = 64 << 20


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker (CPU time and memory cover its whole life)."""

    call_seconds: float = 10.0  # wall time of one request
    cpu_seconds: int = 300
    memory_mib: int = 3072  # address space on top of what torch already maps
    file_mib: int = 16
    processes: int = 32  # only enforced when workers run as `nobody`

    def for_zygote(self) -> dict[str, int]:
        return {
            "cpu_seconds": self.cpu_seconds,
            "memory_mib": self.memory_mib,
            "file_mib": self.file_mib,
            "processes": self.processes,
        }


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the learner's code): the grader cannot go on."""


@dataclass
class Sandbox:
    """One zygote and the workers it forks. Start it early: its torch import overlaps
    with the grader's own."""

    forbidden: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    strong: bool = False
    hidden_paths: tuple[Path, ...] = ()
    warm: tuple[str, ...] = ()  # costly torch parts to initialise once, e.g. "optim"

    def __post_init__(self) -> None:
        check_reachable_by_nobody()
        self._control, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = [sys.executable, "-I", str(WORKER_SCRIPT), str(child_end.fileno()),
                   json.dumps({"forbidden": list(self.forbidden), "warm": list(self.warm)})]
        if self.strong:
            from lossgrade.sandbox.strong import wrap_command

            command = wrap_command(command, hide=self.hidden_paths, keep_fds=[child_end.fileno()])
        self._process = subprocess.Popen(
            command,
            pass_fds=[child_end.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1"},
            start_new_session=True,
        )
        child_end.close()
        self._lines = self._control.makefile("rb")
        self._ready = False

    def _reply(self) -> dict[str, Any]:
        line = self._lines.readline()
        if not line:
            error = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
            raise SandboxError(f"the sandbox's zygote process stopped: {error.strip()[-500:]}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def wait_ready(self) -> None:
        if not self._ready:
            self._reply()
            self._ready = True

    def spawn(self) -> Worker:
        """Fork a fresh worker, connected to us by its own socket."""
        self.wait_ready()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        request = json.dumps({"op": "fork", "limits": self.limits.for_zygote()}).encode()
        socket.send_fds(self._control, [request], [theirs.fileno()])
        theirs.close()
        pid = int(self._reply()["pid"])
        return Worker(pid=pid, sock=ours, sandbox=self)

    def exit_status(self, pid: int) -> int | None:
        """The wait status of a worker that has ended, or None while it is running."""
        for _ in range(50):
            self._control.sendall(json.dumps({"op": "status", "pid": pid}).encode())
            status = self._reply()["status"]
            if status is not None:
                return int(status)
            time.sleep(0.01)
        return None

    def close(self) -> None:
        try:
            self._lines.close()
            self._control.close()  # the zygote sees end-of-file, kills its workers and exits
            self._process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except OSError:
            pass
        self._process.wait()
        if self._process.stderr:
            self._process.stderr.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_reachable_by_nobody() -> None:
    """As root, workers drop to `nobody`, who must be able to reach Python and torch."""
    if os.geteuid() != 0:
        return
    import importlib.util

    torch_spec = importlib.util.find_spec("torch")
    paths = [Path(sys.executable).resolve(), WORKER_SCRIPT]
    if torch_spec and torch_spec.origin:
        paths.append(Path(torch_spec.origin))
    for path in paths:
        for folder in path.parents:
            if folder.exists() and not folder.stat().st_mode & 0o001:
                raise SandboxError(
                    f"learner code runs as the user nobody, who cannot enter {folder} (needed for "
                    f"{path.name}); allow it with `chmod o+x {folder}`"
                )


@dataclass
class Worker:
    pid: int
    sock: socket.socket
    sandbox: Sandbox
    alive: bool = True

    def request(self, message: dict[str, Any], timeout: float) -> Reply:
        """Send one request; the reply, or why none came (timeout, crash, unsafe data)."""
        try:
            payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
            self.sock.sendall(struct.pack(">Q", len(payload)) + payload)
            frame = self._read_frame(time.monotonic() + timeout)
        except TimeoutError:
            self.kill()
            return timed_out(timeout)
        except (OSError, EOFError):
            return self._died()
        except ValueError as exc:
            self.kill()
            return unsafe(str(exc))
        return validate(frame)

    def _read_frame(self, deadline: float) -> bytes:
        header = self._read_exact(8, deadline)
        (size,) = struct.unpack(">Q", header)
        if size > MAX_REPLY_BYTES:
            raise ValueError(f"the reply was {size} bytes, more than the {MAX_REPLY_BYTES} allowed")
        return self._read_exact(size, deadline)

    def _read_exact(self, size: int, deadline: float) -> bytes:
        chunks, remaining = [], size
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError
            chunk = self.sock.recv(min(remaining, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _died(self) -> Reply:
        self.alive = False
        self.sock.close()
        return crashed(self.sandbox.exit_status(self.pid))

    def kill(self) -> None:
        if self.alive:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
            self.alive = False
            self.sock.close()

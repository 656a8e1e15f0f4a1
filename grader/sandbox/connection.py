"""The grader's side of one worker's socket: requests sent, replies read within their
deadline and validated (replies.py), a worker that hangs, crashes or forges its reply ended.

A `Worker` is one forked process (see `Sandbox.spawn`); a `Stream` reads the replies to a
"calls" request one at a time, as a check needs them (checks/ahead.py).
"""
from __future__ import annotations

import marshal
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lossgrade.core.errors import SandboxError
from lossgrade.sandbox import budget as budgets
from lossgrade.sandbox.replies import Reply, crashed, timed_out, unsafe, validate

if TYPE_CHECKING:
    from lossgrade.sandbox.client import Sandbox

MAX_REPLY_BYTES = 64 << 20
_SIZE = struct.Struct(">Q")  # a frame's length, before its bytes


@dataclass
class Worker:
    """One worker process, as the grader talks to it: requests out, replies in, each within
    its deadline and the submission's budget; ended through the sandbox that forked it."""

    pid: int  # as the zygote sees it (in the strong mode, inside its pid namespace)
    sock: socket.socket
    sandbox: Sandbox
    alive: bool = True
    received: bytearray = field(default_factory=bytearray)  # read from the socket, not yet a reply

    def request(self, message: dict[str, Any], timeout: float) -> Reply:
        """Send one request; the reply, or why none came (timeout, crash, unsafe data)."""
        return self.exchange(message, 1, timeout)[0]

    def exchange(self, message: dict[str, Any], replies: int, timeout: float) -> list[Reply]:
        """Send one request and read `replies` replies to it (several for a "calls" request),
        each within `timeout` of the one before. Sending and receiving share the deadline:
        a worker that stops reading cannot block the grader either. Once one reply says
        why none came, or forges its data, it stands for the rest too: the worker is gone."""
        budget = budgets.current()
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
            payload = _wire.encode_request(message)
            self._settimeout(deadline)
            self.sock.sendall(_SIZE.pack(len(payload)) + payload)
            while len(got) < replies:
                reply = self.validated(self._read_frame(deadline))
                got.append(reply)
                if reply.kind == "unsafe":  # it forged its reply (and is ended): nothing else it sends can be trusted in order
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
        budget = budgets.current()
        if budget is not None and budget.left() <= 0:
            stream.failed = budget.spent()
            return stream
        try:
            payload = _wire.encode_request(message) if encoded is None else encoded
            self._settimeout(time.monotonic() + timeout)
            self.sock.sendall(_SIZE.pack(len(payload)) + payload)
        except TimeoutError:
            self.kill()
            stream.failed = timed_out(timeout)
        except (OSError, EOFError):
            stream.failed = self._died()
        return stream

    def _next_frame(self, timeout: float) -> bytes | Reply:
        """The bytes of one reply to a request already sent, within `timeout`, not yet
        validated (`validated`); else the Reply that says why none came: a worker that does
        not send one, or sends one that cannot be framed, is ended (see `_exchange`)."""
        try:
            return self._read_frame(time.monotonic() + timeout)
        except TimeoutError:
            self.kill()
            return timed_out(timeout)
        except (OSError, EOFError):
            return self._died()
        except ValueError as exc:
            self.kill()
            return unsafe(str(exc))

    def validated(self, frame: bytes) -> Reply:
        """`validate` of a reply's bytes; a worker that forged them is ended."""
        reply = validate(frame)
        if reply.kind == "unsafe":
            self.kill()
        return reply

    def _settimeout(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)

    def _read_frame(self, deadline: float) -> bytes:
        """The next reply's bytes. The socket is read in blocks of whatever has arrived
        (`received` keeps what follows the frame): a worker that runs ahead has often sent
        several replies, which one system call then reads, not two for each."""
        received = self.received
        while True:
            if len(received) >= 8:
                (size,) = _SIZE.unpack_from(received)
                if size > MAX_REPLY_BYTES:
                    raise ValueError(f"the reply was {size} bytes, more than the {MAX_REPLY_BYTES} allowed")
                end = 8 + size
                if len(received) >= end:
                    frame = bytes(received[8:end])
                    del received[:end]
                    return frame
                wanted = end - len(received)
            else:
                wanted = 8 - len(received)
            self._settimeout(deadline)
            chunk = self.sock.recv(min(max(wanted, 1 << 16), 1 << 20))
            if not chunk:
                raise EOFError
            received += chunk

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
        return self.reply_of(self.next_frame())

    def next_frame(self) -> bytes | Reply:
        """The next reply's bytes, not yet validated (`reply_of` does that), or the Reply
        that says why none came (a timeout, a crash, the budget spent, a frame too large)."""
        if self.read >= self.count:
            raise IndexError("every reply of this request has been read")
        self.read += 1
        if self.failed is not None:
            return self.failed
        budget = budgets.current()
        got: bytes | Reply
        if budget is None:
            got = self.worker._next_frame(self.timeout)
        elif budget.left() <= 0:
            got = budget.spent()
            self.worker.kill()  # it would go on with calls nobody reads
        else:
            started = time.monotonic()
            try:
                got = self.worker._next_frame(min(self.timeout, budget.left()))
            finally:
                budget.used += time.monotonic() - started
            if isinstance(got, Reply) and got.kind == "timeout" and budget.left() <= 0:
                got = budget.spent()
        if isinstance(got, Reply) and not self.worker.alive:
            self.failed = got
        return got

    def reply_of(self, got: bytes | Reply) -> Reply:
        """The Reply that `next_frame` gave, its bytes validated (forged ones end the
        worker, and that reply then stands for every one after it)."""
        if isinstance(got, Reply):
            return got
        reply = self.worker.validated(got)
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
        budget = budgets.current()
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
    payload = marshal.dumps({"op": "stop"}, 4)  # _wire.encode_request's, without importing torch
    return _SIZE.pack(len(payload)) + payload


STOP_FRAME = _stop_frame()

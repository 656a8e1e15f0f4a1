"""Grade submissions in parallel: one trusted grader process per job, each with its own
sandbox, fed one submission at a time over its own pipe.

The graders are forked from this process after it has imported torch, the checks and the
reference solutions and warmed them up, so none of them pays for that again. Each grader
writes a submission's record atomically as soon as it is graded, then asks for the next.
A learner who manages to stop the sandbox costs one retry with a fresh sandbox, then an
error for that learner alone; a grader process that dies is replaced, and its submission
reported as a grader failure.

Ctrl-C: graders ignore SIGINT; this process stops them with SIGTERM, which each turns into
an orderly exit (its sandbox closed, no temporary file left behind).
"""
from __future__ import annotations

import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from lossgrade import catalog
from lossgrade.batch import records
from lossgrade.batch import submission as grading
from lossgrade.batch.discover import Submission


@dataclass
class Outcome:
    graded: dict[str, records.Record] = field(default_factory=dict)  # learner -> record
    grader_failures: list[str] = field(default_factory=list)  # the grader broke: one line each
    sandbox_failures: list[str] = field(default_factory=list)  # a learner stopped the sandbox


def prepare(exercises: Sequence[catalog.Exercise]) -> None:
    """Pay every one-time cost here, before the graders fork: imports, the reference
    solutions, the misconception catalogues, the quizzes, and torch's lazy initialisation
    (autograd's shape checks import sympy, ~0.7 s; the first optimizer costs ~1 s; the
    first safe load of a reply)."""
    import io

    import torch
    from lossgrade import misconceptions, runner
    from lossgrade.quiz import library

    torch.set_num_threads(1)  # the same numerics at any --jobs
    for exercise in exercises:
        runner.checks_for(exercise)
        runner.reference(exercise)
        misconceptions.catalogue(exercise.module)
    library.quizzes()
    runner.devices()
    model = torch.nn.Linear(3, 2)
    for optimizer in (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), torch.optim.Adam(model.parameters())):
        model(torch.ones(1, 3)).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    x = torch.ones(3, dtype=torch.float64, requires_grad=True)
    y = x * 2
    torch.autograd.grad(y, [x], torch.ones_like(y))
    buffer = io.BytesIO()
    torch.save({"x": x.detach()}, buffer)
    torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)


def run(pending: Sequence[Submission], jobs: int, out: Path, exercises: Sequence[catalog.Exercise], fingerprint: str,
        on_done: Callable[[records.Record], None] = lambda record: None) -> Outcome:
    """Grade `pending` with `jobs` grader processes; `on_done` sees each record as it comes."""
    context = multiprocessing.get_context("fork")
    queue = deque(pending)
    outcome = Outcome()
    graders: dict[Connection, _Grader] = {}
    respawns = jobs + 2

    def start() -> None:
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs, out, list(exercises), fingerprint), daemon=True)
        process.start()
        theirs.close()
        grader = _Grader(process, ours, queue)
        graders[ours] = grader
        grader.feed()

    for _ in range(min(jobs, len(queue))):
        start()
    try:
        while graders:
            ready = wait([*graders, *(g.process.sentinel for g in graders.values())])
            for conn, grader in list(graders.items()):
                if conn in ready or grader.process.sentinel in ready:
                    finished = _collect(grader, outcome, on_done)
                    if finished:
                        del graders[conn]
                        conn.close()
                        if grader.process.exitcode and queue and respawns > 0:
                            respawns -= 1
                            start()
    except BaseException:
        for grader in graders.values():
            grader.stop()
        raise
    outcome.grader_failures.extend(f"{s.learner}: not graded, the grader processes kept failing" for s in queue)
    return outcome


@dataclass
class _Grader:
    process: BaseProcess
    conn: Connection
    queue: deque[Submission]  # shared by every grader
    current: Submission | None = None

    def feed(self) -> None:
        self.current = self.queue.popleft() if self.queue else None
        self.conn.send(self.current)  # None: no more work, exit

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _collect(grader: _Grader, outcome: Outcome, on_done: Callable[[records.Record], None]) -> bool:
    """Take what the grader sent; True once it has exited."""
    try:
        while grader.conn.poll():
            record, failed = grader.conn.recv()
            if record is None:  # the grader could not start its sandbox
                outcome.grader_failures.append(failed)
                continue
            outcome.graded[record.learner] = record
            if failed:
                outcome.sandbox_failures.append(f"{record.learner}: {failed}")
            on_done(record)
            grader.feed()
    except (EOFError, OSError):
        pass
    if grader.process.is_alive():
        return False
    grader.process.join()
    if grader.current is not None and grader.current.learner not in outcome.graded:
        why = f"the grader process stopped (exit code {grader.process.exitcode}) while grading this submission"
        outcome.grader_failures.append(f"{grader.current.learner}: {why}")
    return True


# ------------------------------------------------------------------ the grader process
def _serve(conn: Connection, out: Path, exercises: list[catalog.Exercise], fingerprint: str) -> None:
    from lossgrade import service
    from lossgrade.sandbox.client import SandboxError

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: sandbox closed, temp files removed
    try:
        sandbox = service.open_sandbox(exercises)
        sandbox.wait_ready()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the batch
        conn.send((None, f"the sandbox could not start: {exc}"))
        sys.exit(1)
    try:
        while (submission := conn.recv()) is not None:
            failed = None
            try:
                result = grading.grade(sandbox, submission, exercises)
            except SandboxError:
                sandbox.close()
                sandbox = service.open_sandbox(exercises)  # once more, with a fresh sandbox
                try:
                    result = grading.grade(sandbox, submission, exercises)
                except SandboxError as exc:
                    sandbox.close()
                    sandbox = service.open_sandbox(exercises)
                    failed = f"the sandbox stopped twice while grading this submission ({exc})"
                    result = grading.unreadable(submission, exercises, failed)
            record = records.Record(submission.learner, submission.source, submission.digest,
                                    fingerprint, result, submission.notes)
            if failed is None:
                records.save(out, record)  # a failure is not kept: the next run tries again
            conn.send((record, failed))
    finally:
        sandbox.close()

"""Grade submissions in parallel: one trusted grader process per job, each with its own
sandbox, fed one submission at a time over its own pipe.

The graders are forked from this process after it has imported torch, the checks and the
reference solutions and warmed them up, so none of them pays for that again; where the
checks also run on cuda they are spawned instead (see `start_method`). Each grader
writes a submission's record atomically as soon as it is graded, then asks for the next.
A learner who manages to stop the sandbox costs one retry with a fresh sandbox, then an
error for that learner alone; a grader process that dies is replaced, and its submission
reported as a grader failure.

Ctrl-C: graders ignore SIGINT; this process stops them with SIGTERM, which each turns into
an orderly exit (its sandbox closed, no temporary file left behind).
"""
from __future__ import annotations

import gc
import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from lossgrade.course import catalog
from lossgrade import course
from lossgrade.grading import records
from lossgrade.grading import submission as grading
from lossgrade.grading.discover import Submission
from lossgrade.core import interrupts
from lossgrade.core.results import SubmissionResult
from lossgrade.sandbox.client import Sandbox


@dataclass(frozen=True)
class SandboxPlan:
    """How each grader process opens its sandbox: `hidden` (the class and the results
    folders) is refused to learner code, and with `strong` not mounted at all. `secret`:
    the grading secret the checks draw their inputs from (see checks/secret.py)."""

    strong: bool = False
    hidden: tuple[Path, ...] = ()
    budget: float | None = None  # seconds for all of one submission's calls; None: Limits' default
    secret: bytes | None = None  # the key of every input a learner must not know (checks/secret.py)


@dataclass
class Outcome:
    graded: dict[str, records.Record] = field(default_factory=dict)  # learner -> record
    grader_failures: list[str] = field(default_factory=list)  # the grader broke: one line each
    sandbox_failures: list[str] = field(default_factory=list)  # a learner stopped the sandbox
    sandbox_unavailable: str = ""  # why a grader could not start its sandbox at all


def prepare(exercises: Sequence[catalog.Exercise]) -> None:
    """Pay every one-time cost here, before the graders fork: imports, the reference
    solutions, the misconception catalogues, the quizzes, and torch's lazy initialisation
    (autograd's shape checks import sympy, ~0.7 s; the first optimizer costs ~1 s; the
    first reading of a reply)."""
    import torch
    from lossgrade import misconceptions
    from lossgrade.grading.grader import Grader, devices
    from lossgrade.quiz import library
    from lossgrade.sandbox import _wire
    from lossgrade.sandbox.replies import validate

    torch.set_num_threads(1)  # the same numerics at any --jobs
    grader = Grader(course.current())
    for exercise in exercises:
        grader.checks(exercise)
        grader.reference(exercise)
        misconceptions.catalogue(exercise.module)
    library.quizzes()
    devices()
    model = torch.nn.Linear(3, 2)
    for optimizer in (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), torch.optim.Adam(model.parameters())):
        model(torch.ones(1, 3)).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    x = torch.ones(3, dtype=torch.float64, requires_grad=True)
    y = x * 2
    torch.autograd.grad(y, [x], torch.ones_like(y))
    validate(_wire.encode({"kind": "tensor", "value": x.detach(), "grads": [None]}))
    # All of that lives as long as the process: out of the collector's sight, each full
    # collection walks only what grading makes (~0.1 s each, a few hundred thousand objects,
    # before), and a forked grader never writes to the pages it shares with this process.
    gc.collect()
    gc.freeze()


def run(pending: Sequence[Submission], jobs: int, out: Path, exercises: Sequence[catalog.Exercise], fingerprint: str,
        sandboxes: SandboxPlan = SandboxPlan(), on_done: Callable[[records.Record], None] = lambda record: None) -> Outcome:
    """Grade `pending` with `jobs` grader processes; `on_done` sees each record as it comes."""
    context = multiprocessing.get_context(start_method())
    queue = deque(pending)
    outcome = Outcome()
    graders: dict[Connection, _Grader] = {}
    respawns = jobs + 2

    def start() -> None:
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, daemon=True,  # type: ignore[attr-defined]
                                  args=(theirs, out, list(exercises), fingerprint, sandboxes, course.current()))
        with interrupts.held():  # a Ctrl-C in os.fork's after-fork hooks would be dropped
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
                        if grader.process.exitcode and queue and respawns > 0 and not _hopeless(outcome):
                            respawns -= 1
                            start()
    except BaseException:
        for grader in graders.values():
            grader.stop()
        raise
    if _hopeless(outcome):
        raise SandboxUnavailable(outcome.sandbox_unavailable)
    outcome.grader_failures.extend(f"{s.learner}: not graded, the grader processes kept failing" for s in queue)
    return outcome


class SandboxUnavailable(Exception):
    """No grader could start its sandbox: nothing was graded, and nothing should be written."""


def _hopeless(outcome: Outcome) -> bool:
    """No sandbox has started yet and one could not: another grader would fail the same way."""
    return bool(outcome.sandbox_unavailable) and not outcome.graded


def start_method() -> str:
    """How the graders start: forked, with everything `prepare` paid for, on a machine
    without a GPU; spawned, paying their own imports once, where checks also run on cuda.
    CUDA does not survive a fork: a grader forked from a process that had touched it
    (a notebook, a test session, anything that called `torch.cuda.is_available()`) could
    not run a single cuda check, and nothing here can tell that it was touched."""
    from lossgrade.grading.grader import devices

    return "spawn" if "cuda" in devices() else "fork"


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
            record, sandbox_failed, grader_failed = grader.conn.recv()
            if record is None:  # the grader could not start its sandbox
                outcome.grader_failures.append(grader_failed)
                outcome.sandbox_unavailable = outcome.sandbox_unavailable or grader_failed
                continue
            outcome.graded[record.learner] = record
            if sandbox_failed:
                outcome.sandbox_failures.append(f"{record.learner}: {sandbox_failed}")
            if grader_failed:
                outcome.grader_failures.append(f"{record.learner}: {grader_failed}")
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
class _Grading:
    """A grader process's sandbox, and grading with a fresh one when a learner stops it."""

    def __init__(self, exercises: list[catalog.Exercise], plan: SandboxPlan) -> None:
        self.exercises = exercises
        self.plan = plan
        self.sandbox = self.open()
        self.sandbox.wait_ready()

    def open(self) -> Sandbox:
        from lossgrade.grading import service

        from lossgrade.sandbox.client import Limits

        limits = Limits() if self.plan.budget is None else Limits(budget_seconds=self.plan.budget)
        return service.open_sandbox(self.exercises, strong=self.plan.strong, hidden=self.plan.hidden, limits=limits)

    def grade(self, submission: Submission) -> tuple[SubmissionResult, str | None, str | None]:
        """(result, why the sandbox failed it, why the grader failed it)."""
        from lossgrade.core.errors import SandboxError

        exercises = [e for e in self.exercises if submission.todo is None or e.id in submission.todo]
        for attempt in (1, 2):
            try:
                return records.merge(submission.previous, grading.grade(self.sandbox, submission, exercises)), None, None
            except SandboxError as exc:
                self.sandbox.close()
                self.sandbox = self.open()
                if attempt == 2:
                    why = f"the sandbox stopped twice while grading this submission ({exc})"
                    return grading.unreadable(submission, self.exercises, why), why, None
            except Exception as exc:  # noqa: BLE001 - a bug of ours: report it, grade the rest
                why = f"the grader failed on this submission ({type(exc).__name__}: {exc})"
                return grading.unreadable(submission, self.exercises, why), None, why
        raise AssertionError("unreachable")


def _serve(conn: Connection, out: Path, exercises: list[catalog.Exercise], fingerprint: str, plan: SandboxPlan,
           within: course.Course) -> None:
    course.use(within)  # handed down: a spawned grader has no other way to know it
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: sandbox closed, temp files removed
    import torch

    torch.set_num_threads(1)  # as `prepare` did, for a grader that was spawned rather than forked
    if plan.secret is not None:
        from lossgrade.checks import secret

        secret.use_secret(plan.secret)
    try:
        state = _Grading(exercises, plan)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the batch
        conn.send((None, None, f"the sandbox could not start: {exc}"))
        sys.exit(1)
    try:
        while (submission := conn.recv()) is not None:
            result, sandbox_failed, grader_failed = state.grade(submission)
            graded_now = {e.id for e in exercises if submission.todo is None or e.id in submission.todo}
            kept = {k: v for k, v in submission.previous_inputs.items() if k not in graded_now}
            record = records.make(submission, fingerprint, result, kept)
            if not (sandbox_failed or grader_failed):
                records.save(out, record)  # a failure is not kept: the next run tries again
            conn.send((record, sandbox_failed, grader_failed))
    finally:
        state.sandbox.close()

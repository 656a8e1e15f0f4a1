"""Fixtures of the red-team suite: what must stay untouched while hostile code is graded.

- `canary`: a folder left in /tmp with the permissions real ones get (0755 folders, 0644
  files): results, a workspace's `.lossgrade/state.json`, a classmate's submission. Nothing
  may change in it (and the classmate's work may not be copied: see copy_a_classmate).
- `trusted_state`: the grader process's own global state (torch's dtype, threads, seed and
  flags, the comparison functions, signal and exit handlers): nothing may change in it.
- `good`: a known-good submission per exercise, graded once as the baseline and again after
  every hostile one: its results must stay identical.
- `no_strays`: after grading, no process the hostile code started may still be alive.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.core.results import ExerciseResult
from lossgrade.sandbox.client import Sandbox

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


class Canary:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="lossgrade-redteam-canary-"))
        self.root.chmod(0o755)
        (self.root / "results.json").write_text('[{"exercise": "ex01", "score": 0.0}]\n')
        state = self.root / "workspace" / ".lossgrade" / "state.json"
        state.parent.mkdir(parents=True)
        state.write_text('{"results": {}}\n')
        classmate = self.root / "class" / "alice" / "ex01_mse.py"  # a submission another learner may copy
        classmate.parent.mkdir(parents=True)
        classmate.write_text((SOLUTIONS / "ex01_mse.py").read_text())
        for path in self.root.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        self.before = self.snapshot()

    def snapshot(self) -> dict[str, tuple[Any, ...]]:
        found = {}
        for path in sorted(self.root.rglob("*")):
            info = path.lstat()
            content = path.read_bytes() if path.is_file() else b""
            found[str(path)] = (info.st_mode, info.st_uid, info.st_mtime_ns, content)
        return found

    def assert_untouched(self) -> None:
        assert self.snapshot() == self.before, "a file outside the worker's folder was changed"


@pytest.fixture(scope="session")
def canary() -> Iterator[Canary]:
    made = Canary()
    yield made
    shutil.rmtree(made.root, ignore_errors=True)


def _trusted_state() -> dict[str, Any]:
    return {
        "default dtype": torch.get_default_dtype(),
        "threads": torch.get_num_threads(),
        "seed": bytes(torch.get_rng_state().tolist()),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "grad mode": torch.is_grad_enabled(),
        "anomaly mode": torch.is_anomaly_enabled(),
        "comparisons": (torch.allclose, torch.equal, torch.testing.assert_close, torch.Tensor.__eq__),
        "signal handlers": tuple(signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)),
        "exit handlers": atexit._ncallbacks(),
        "streams": (sys.stdout, sys.stderr),
        "pytest": sys.modules.get("pytest"),
    }


@pytest.fixture
def trusted_state() -> Iterator[None]:
    before = _trusted_state()
    yield
    assert _trusted_state() == before, "the grader's own process changed"


def signature(result: ExerciseResult) -> list[Any]:
    """Everything about a result but its timings."""
    return [result.status, result.score, result.error] + [
        (c.id, c.outcome, c.feedback.message if c.feedback else None, c.misconception.id if c.misconception else None)
        for c in result.checks
    ]


class Good:
    """Grades each exercise's reference solution as a learner's submission."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.results: dict[str, ExerciseResult] = {}

    def result(self, exercise: catalog.Exercise) -> ExerciseResult:
        source = (SOLUTIONS / exercise.file).read_text()
        return runner.grade_exercise(self.sandbox, exercise, {exercise.file: source})

    def grade(self, exercise: catalog.Exercise) -> list[Any]:
        return signature(self.result(exercise))

    def baseline(self, exercise: catalog.Exercise) -> list[Any]:
        if exercise.id not in self.results:
            self.results[exercise.id] = self.result(exercise)
        return signature(self.results[exercise.id])


@pytest.fixture(scope="session")
def good(sandbox: Sandbox) -> Good:
    import torch._dynamo  # noqa: F401 - the reference's first optimizer step imports it, adding exit handlers

    return Good(sandbox)


def _processes() -> list[tuple[int, int, int]]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if line.startswith(("PPid:", "Uid:")))
            found.append((int(entry), int(fields["PPid"]), int(fields["Uid"].split()[0])))
        except (OSError, KeyError, ValueError):
            continue
    return found


def strays(sandbox: Sandbox) -> list[int]:
    """Processes below the zygote of a default-mode sandbox (no worker is alive between
    gradings), and any process running as one of its workers' uids."""
    processes = _processes()
    below: set[int] = set()
    frontier = {sandbox.pid}
    while frontier:
        frontier = {pid for pid, ppid, _ in processes if ppid in frontier and pid not in below}
        below |= frontier
    below -= sandbox.own_processes()  # the zygote, pid 1 of its namespace, and the one that made it
    uids = sandbox.uids or range(0)
    return sorted(below | {pid for pid, _, uid in processes if uid in uids})


@pytest.fixture
def no_strays(sandbox: Sandbox) -> Callable[[], None]:
    def check() -> None:
        deadline = time.monotonic() + 5.0  # the zygote kills strays after answering us
        while (left := strays(sandbox)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not left, f"processes left behind by the learner's code: {left}"

    return check

"""The strong mode (bubblewrap): no network, the solutions and the grader hidden from the
file system, no view of other processes; skipped, with bwrap's own reason, where it cannot
run."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.sandbox import strong
from lossgrade.sandbox.client import Limits, Sandbox
from lossgrade.sandbox.host import PACKAGE_DIR
from lossgrade.sandbox.learner import LearnerModule
from lossgrade.grading.service import open_sandbox

usable, why = strong.available()
pytestmark = pytest.mark.skipif(not usable, reason=why)
SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
REDTEAM = Path(__file__).resolve().parent / "redteam" / "cases"


@pytest.fixture(scope="module")
def strong_box() -> Iterator[Sandbox]:
    with open_sandbox(strong=True) as box:
        yield box


@pytest.fixture
def listening() -> Iterator[int]:
    """A port on this machine's loopback that accepts connections."""
    server = socket.create_server(("127.0.0.1", 0))
    yield server.getsockname()[1]
    server.close()


def test_wrapped_command_has_no_network_no_hidden_files_and_a_read_only_disk(listening):
    planted = Path(__file__).with_name("planted-by-strong-mode-test")
    code = f"""
import socket
for attempt in (lambda: socket.create_connection(("127.0.0.1", {listening}), timeout=2),
                lambda: open({str(SOLUTIONS / 'ex01_mse.py')!r}).read(),
                lambda: open({str(planted)!r}, "w")):
    try:
        attempt()
        print("reached")
    except OSError as exc:
        print(type(exc).__name__)
"""
    try:
        done = subprocess.run(strong.wrap_command([sys.executable, "-I", "-c", code], hide=[SOLUTIONS]),
                              capture_output=True, check=False, text=True, timeout=60)
        network, solutions, disk = done.stdout.split()
        assert network == "ConnectionRefusedError", done.stderr
        # The exact error depends on where the checkout lives (under /tmp, bwrap's own tmpfs
        # stands in for it): what matters is that nothing was reached.
        assert solutions in ("FileNotFoundError", "PermissionError")
        assert disk in ("OSError", "FileNotFoundError", "PermissionError")
        assert not planted.exists()
    finally:
        planted.unlink(missing_ok=True)


def test_learner_code_sees_no_solutions_no_grader_no_processes_no_listeners(strong_box, listening):
    source = f"""import os

def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError:  # unreachable counts as empty: nothing to read there either
        return []

def probe():
    tcp = open("/proc/self/net/tcp").read() + open("/proc/self/net/tcp6").read()
    raise ValueError(repr((listing({str(SOLUTIONS)!r}), listing({str(PACKAGE_DIR)!r}),
                           len([p for p in listing("/proc") if p.isdigit()]), ":%04X" % {listening} in tcp)))
"""
    learner = LearnerModule(strong_box, "probe", {"probe.py": source}, ("probe",))
    try:
        solutions, package, processes, port_seen = eval(learner.call("probe").message)
    finally:
        learner.close()
    assert solutions == [] and package in (["sandbox"], [])
    assert processes <= 3  # bwrap's init, the zygote, this worker (and Landlock lets it list none)
    assert not port_seen


def test_strong_mode_grades_a_good_submission_as_the_default_mode_does(strong_box, sandbox):
    ex01 = catalog.resolve("ex01")
    files = {ex01.file: (SOLUTIONS / ex01.file).read_text()}
    ours, default = runner.grade_exercise(strong_box, ex01, files), runner.grade_exercise(sandbox, ex01, files)
    assert ours.score == ex01.points
    assert [(c.id, c.outcome) for c in ours.checks] == [(c.id, c.outcome) for c in default.checks]


def test_a_hung_worker_is_killed_inside_the_namespace(strong_box):
    learner = LearnerModule(strong_box, "probe", {"probe.py": "def probe(x):\n    while True:\n        pass\n"},
                            ("probe",), limits=Limits(call_seconds=0.5))
    try:
        assert learner.call("probe", torch.ones(1)).kind == "timeout"
    finally:
        learner.close()
    deadline = time.monotonic() + 5
    while len(_below(strong_box.pid)) > 2 and time.monotonic() < deadline:  # bwrap's init and the zygote
        time.sleep(0.05)
    assert len(_below(strong_box.pid)) == 2


@pytest.mark.parametrize("name", ["read_reference_file", "signal_the_grader", "outliving_child", "fork_bomb"])
def test_hostile_cases_get_their_grade_in_the_strong_mode_too(strong_box, name):
    ex01 = catalog.resolve("ex01")
    source = (REDTEAM / f"{name}.py").read_text()
    result = runner.grade_exercise(strong_box, ex01, {ex01.file: source}, limits=Limits(call_seconds=1.0))
    assert result.score == 0


def _below(root: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(status.split("PPid:")[1].split()[0])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier}
        found |= frontier
    return found


def test_a_python_under_tmp_is_bound_over_the_empty_tmp(monkeypatch):
    """A virtualenv under /tmp (where CI or an instructor may make one) stays visible: the
    empty /tmp is mounted first and Python's folders on top of it."""
    monkeypatch.setattr(strong, "_bwrap", lambda: "bwrap")
    monkeypatch.setattr(strong, "python_folders", lambda: [Path("/tmp/venv-of-a-course")])
    args = strong.wrap_command(["python"], hide=[])
    empty_tmp = args.index("/tmp", args.index("--tmpfs"))
    venv = args.index("/tmp/venv-of-a-course")
    assert empty_tmp < venv and args[venv - 1] == "--ro-bind"

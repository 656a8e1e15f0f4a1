"""Ctrl-C in `check`, `watch`, `grade` and `quiz`, through the real entry point: a real
process group gets a real SIGINT (what a terminal sends) and ends quietly with exit code
130, never click's "Aborted!" and exit code 1. (The quiz on a real terminal, resumed
after Ctrl-C: tests/test_quiz_terminal.py.)"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from lossgrade.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]


def interrupted(args: list[str], after: float, ready: str = "") -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LOSSGRADE_COURSE"}
    # SIGINT as a terminal's foreground process has it: a test run started in the background
    # (`pytest &` in a script) passes its children SIGINT ignored, and Python then never
    # raises KeyboardInterrupt.
    process = subprocess.Popen([sys.executable, "-m", "lossgrade", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True, env=env,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    if ready:  # wait for the command to reach its loop, then give it a moment
        assert process.stderr is not None
        seen = ""
        deadline = time.monotonic() + 120
        while ready not in seen and time.monotonic() < deadline:
            seen += process.stderr.readline()
        assert ready in seen, seen
    time.sleep(after)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal does: the whole foreground group
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    assert CliRunner().invoke(cli, ["init", str(tmp_path / "work")]).exit_code == 0
    return tmp_path / "work"


def test_ctrl_c_in_check(workspace: Path) -> None:
    code, out, err = interrupted(["check", "--all", "-w", str(workspace)], after=2.0)
    assert code == 130, (out, err)
    assert "Aborted!" not in err and "Traceback" not in err


def test_ctrl_c_in_watch(workspace: Path) -> None:
    code, out, err = interrupted(["watch", "ex01", "-w", str(workspace), "--interval", "0.2"], after=0.5,
                                 ready="Watching ex01_mse.py")
    assert code == 130, (out, err)
    assert err.strip().endswith("Stopped watching.") and "Aborted!" not in err and "Traceback" not in err


def test_ctrl_c_in_grade(tmp_path: Path) -> None:
    code, out, err = interrupted(["grade", str(ROOT / "examples" / "sample-class"), "--out", str(tmp_path / "out")],
                                 after=3.0)
    assert code == 130, (out, err)
    assert "Interrupted:" in err and "run the same command again to grade the rest." in err
    assert "Aborted!" not in err and "Traceback" not in err


def test_ctrl_c_in_quiz(workspace: Path) -> None:
    code, out, err = interrupted(["quiz", "logits", "-w", str(workspace), "--seed", "1"], after=0.5,
                                 ready="Ctrl-C stops at any time")
    assert code == 130, (out, err)
    assert "Stopped; there were no answers to save." in err and "Aborted!" not in err and "Traceback" not in err


def test_ctrl_c_while_the_command_loads(workspace: Path) -> None:
    code, out, err = interrupted(["list", "-w", str(workspace)], after=0.3)  # loading click and the sandbox client
    # 0: a fast machine had already listed everything. A SIGINT that lands once the
    # interpreter is shutting down ends it by SIGINT, which a shell reports as 130 too.
    assert as_a_shell_reports(code) in (130, 0), (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def as_a_shell_reports(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def run_module(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    """`python -m` a module that stands in for lossgrade's command line, calling the real
    entry point (`lossgrade.__main__.run`) with one command of its own."""
    (tmp_path / "stand_in.py").write_text(source)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "stand_in"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


def test_ctrl_c_that_escaped_an_exec_still_ends_with_130_under_python_m(tmp_path: Path) -> None:
    # CPython 3.11 remembers a KeyboardInterrupt that left an exec() of a string (a dataclass
    # being built while torch imports), and `python -m` then died by SIGINT (-2), not 130.
    done = run_module(tmp_path, """
import lossgrade.cli.main as command_line
from lossgrade.__main__ import run

def interrupted_in_exec(**_):
    try:
        exec("raise KeyboardInterrupt")
    except KeyboardInterrupt:
        raise SystemExit(130) from None

command_line.cli.main = interrupted_in_exec
run()
""")
    assert done.returncode == 130, done
    assert "Traceback" not in done.stderr


def test_ctrl_c_that_a_library_turned_into_its_own_error_ends_quietly_with_130(tmp_path: Path) -> None:
    done = run_module(tmp_path, """
import lossgrade.cli.main as command_line
from lossgrade.__main__ import run

def interrupted_in_a_library(**_):
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as interrupt:
        raise RuntimeError("Error calling __set_name__ on 'Field' instance") from interrupt

command_line.cli.main = interrupted_in_a_library
run()
""")
    assert done.returncode == 130, done
    assert "Traceback" not in done.stderr and "RuntimeError" not in done.stderr


def ctrl_c_turned_into_an_error(*_: object, **__: object) -> None:
    """What a dataclass built while torch imports does with a Ctrl-C (Python 3.11)."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as interrupt:
        raise RuntimeError("Error calling __set_name__ on 'Field' instance") from interrupt


def test_grade_says_what_it_kept_when_a_library_turned_ctrl_c_into_its_own_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lossgrade.grading import grade as grading

    monkeypatch.setattr(grading, "grade_class", ctrl_c_turned_into_an_error)
    result = CliRunner().invoke(cli, ["grade", str(ROOT / "examples" / "sample-class"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 130, result.output
    assert "Interrupted: 0 submissions graded in this run are saved in" in result.output
    assert "RuntimeError" not in result.output


def test_watch_says_it_stopped_when_a_library_turned_ctrl_c_into_its_own_error(
        workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lossgrade.grading import service

    monkeypatch.setattr(service, "grade_folder", ctrl_c_turned_into_an_error)
    result = CliRunner().invoke(cli, ["watch", "ex01", "-w", str(workspace), "--interval", "0.1"])
    assert result.exit_code == 130, result.output
    assert "Stopped watching." in result.output and "RuntimeError" not in result.output


def test_ctrl_c_during_a_fork_is_held_until_the_fork_is_done_not_lost() -> None:
    # Python drops an exception raised in os.fork's after-fork hooks ("Exception ignored"):
    # a Ctrl-C there was lost, and `grade` ran the whole class and exited 0.
    from lossgrade.core import interrupts

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal's foreground
    reached = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with interrupts.held():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                reached.append("the end of the block")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert reached == ["the end of the block"]


def test_holding_ctrl_c_from_another_thread_leaves_signals_alone() -> None:
    # Only the main thread may set a signal handler: a grade run from a thread (a notebook's
    # worker thread, say) forks its graders unheld rather than failing.
    import threading

    from lossgrade.core import interrupts

    before = signal.getsignal(signal.SIGINT)
    entered: list[bool] = []

    def run() -> None:
        with interrupts.held():
            entered.append(signal.getsignal(signal.SIGINT) is before)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert entered == [True]

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
    assert code in (130, 0), (out, err)  # 0: a fast machine had already listed everything
    assert "Traceback" not in err and "KeyboardInterrupt" not in err

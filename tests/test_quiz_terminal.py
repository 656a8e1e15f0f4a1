"""A real terminal session of `lossgrade quiz`: a subprocess on a pseudo-terminal, typed
answers, a real Ctrl-C (the terminal sends SIGINT), and a rerun that resumes."""
from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
from pathlib import Path

import pytest

from lossgrade.quiz import library
from lossgrade.cli.quiz_interactive import choice_order
from lossgrade.quiz.model import Kind, Question, Quiz

pty = pytest.importorskip("pty")
COMMAND = "from lossgrade.cli.quiz import quiz; quiz(prog_name='lossgrade quiz')"


class Terminal:
    """One process on a pseudo-terminal, driven like a person at the keyboard."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: its stdin, stdout and stderr are the terminal
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a terminal's process has it, however pytest was started
            os.execve(sys.executable, [sys.executable, "-c", COMMAND, *args], env)
        self.seen = ""
        self.cursor = 0

    def expect(self, text: str, timeout: float = 30.0) -> None:
        """Wait for `text` to appear after what the last expect matched (so a prompt seen
        earlier does not count for the next question)."""
        deadline = time.monotonic() + timeout
        while (found := self.seen.find(text, self.cursor)) < 0:
            assert time.monotonic() < deadline, f"never saw {text!r}; the screen shows:\n{self.seen}"
            if select.select([self.fd], [], [], 0.1)[0]:
                self.seen += os.read(self.fd, 65536).decode("utf-8", "replace")
        self.cursor = found + len(text)

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def exit_code(self, timeout: float = 60.0) -> int:
        """Read to the end of the output, then the process's exit code.

        The terminal is closed only after the child has exited: closing the master side of a
        pseudo-terminal sends SIGHUP to a child still finishing, which would read as exit -1."""
        deadline = time.monotonic() + timeout
        status = None
        while status is None and time.monotonic() < deadline:
            try:
                if select.select([self.fd], [], [], 0.1)[0]:
                    self.seen += os.read(self.fd, 65536).decode("utf-8", "replace")
            except OSError:  # the child closed its side of the terminal: it is exiting
                time.sleep(0.05)
            pid, raw = os.waitpid(self.pid, os.WNOHANG)
            status = raw if pid else None
        if status is None:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
            os.close(self.fd)
            pytest.fail(f"the quiz did not exit within {timeout:.0f} s; the screen shows:\n{self.seen}")
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def right_answer(quiz: Quiz, question: Question, seed: int) -> str:
    """What a learner who knows the answer types, given the choices' shuffled order."""
    if question.choices:
        order = choice_order(quiz, question, seed)
        keys = question.answer if isinstance(question.answer, tuple) else (question.answer,)
        return ",".join(str(order.index(key) + 1) for key in keys)
    if question.kind is Kind.TRUE_FALSE:
        return "t" if question.answer else "f"
    return str(question.answer)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "LOSSGRADE_COURSE", "LOSSGRADE_WORKSPACE")}
    return {**clean, "TERM": "xterm", "COLUMNS": "100"}


def answer(terminal: Terminal, quiz: Quiz, numbers: range, seed: int) -> None:
    for number in numbers:
        question = quiz.questions[number - 1]
        terminal.expect(f"Question {number} of {len(quiz.questions)}")
        terminal.expect("?" if question.kind is Kind.OUTPUT else ": ", timeout=10)
        terminal.type(right_answer(quiz, question, seed) + "\r")
        terminal.expect("Why it matters:")


def test_ctrl_c_keeps_progress_and_a_rerun_resumes(tmp_path: Path, env: dict[str, str]) -> None:
    logits = library.get("logits")
    total = len(logits.questions)
    workspace = tmp_path / "work"
    (workspace / ".lossgrade").mkdir(parents=True)
    args = ["logits", "--workspace", str(workspace)]

    first = Terminal([*args, "--seed", "3"], env)
    answer(first, logits, range(1, 3), seed=3)
    first.expect(f"Question 3 of {total}")
    first.expect(": ", timeout=10)  # the prompt is up: Ctrl-C interrupts the question, as a learner's would
    first.type("\x03")  # Ctrl-C: the terminal sends SIGINT to the quiz
    assert first.exit_code() == 130
    assert f"Stopped: 2 of {total} answers saved; run `lossgrade quiz logits` to resume." in first.seen
    assert "\x1b[32m" in first.seen  # a terminal gets colour
    progress = json.loads((workspace / ".lossgrade" / "state.json").read_text(encoding="utf-8"))
    assert progress["quizzes"]["logits"]["progress"]["seed"] == 3
    assert set(progress["quizzes"]["logits"]["progress"]["answers"]) == {q.id for q in logits.questions[:2]}

    second = Terminal(args, env)
    second.expect("Resume? [Y/n]")
    second.type("\r")
    answer(second, logits, range(3, total + 1), seed=3)
    assert second.exit_code() == 0
    assert "Question 1 of" not in second.seen
    assert f"Score: {total}/{total}" in second.seen


def test_no_color_on_a_terminal(tmp_path: Path, env: dict[str, str]) -> None:
    workspace = tmp_path / "work"
    (workspace / ".lossgrade").mkdir(parents=True)
    logits = library.get("logits")
    terminal = Terminal(["logits", "--workspace", str(workspace), "--seed", "3"], {**env, "NO_COLOR": "1"})
    answer(terminal, logits, range(1, 2), seed=3)
    terminal.type("\x03")
    assert terminal.exit_code() == 130
    assert "\x1b[" not in terminal.seen

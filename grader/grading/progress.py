"""A progress bar on stderr that redraws one line and clears itself when done (nothing at
all when stderr is not a terminal: logs get the summary alone)."""
from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = total
        self.done = 0
        self.started = time.monotonic()

    def advance(self, label: str = "") -> None:
        self.done += 1
        self.draw(label)

    def draw(self, label: str = "") -> None:
        if not self.enabled or not self.total:
            return
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        width = 24
        filled = width * self.done // self.total
        bar = "#" * filled + "-" * (width - filled)
        line = f"grading [{bar}] {self.done}/{self.total} · {_clock(elapsed)} elapsed"
        if self.done:
            line += f", ~{_clock(left)} left"
        if label:  # a learner id: never let it move the cursor or change colours
            line += " · " + "".join(c if c.isprintable() else "?" for c in label)
        columns = shutil.get_terminal_size((80, 20)).columns
        self.stream.write("\r\x1b[K" + line[: columns - 1])
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.total:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"

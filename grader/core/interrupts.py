"""Ctrl-C, wherever it lands.

Python turns SIGINT into a KeyboardInterrupt at whichever line runs next, and three
places bend that; each would cost the learner or instructor the quiet exit code 130
every command promises (core/exitcodes.py):

- inside `os.fork`'s after-fork hooks (logging registers one) an exception is printed as
  "Exception ignored" and dropped: the Ctrl-C is lost and the command runs on. `held()`
  keeps it back across a fork, to land on the line after it;
- a library may turn it into its own error: a dataclass built while torch imports reports
  it as "RuntimeError: Error calling __set_name__". `caused_by_ctrl_c()` sees through that;
- CPython 3.11 remembers a KeyboardInterrupt that escaped an `exec()` of a string even
  when it was caught later, and `python -m lossgrade` then ends by SIGINT instead of
  the exit code it was given. `forget_escaped_exec()` clears that memory.

One window stays, in every Python program: a SIGINT that arrives while the interpreter
starts, or once it is shutting down, ends the process by SIGINT, which a shell reports as
130 all the same.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


def caused_by_ctrl_c(error: BaseException) -> bool:
    """Whether `error` is a KeyboardInterrupt, or was raised while one was on its way. An
    exit is never one: it was already decided."""
    if isinstance(error, (SystemExit, GeneratorExit)):
        return False
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@contextlib.contextmanager
def held() -> Iterator[None]:
    """A Ctrl-C that arrives while the block runs is held back, not lost: it lands as the
    block ends, as if it arrived then. (Not a blocked signal mask: torch's threads would
    take it instead.) A process forked inside starts with SIGINT only noted; it sets its
    own handling."""
    if threading.current_thread() is not threading.main_thread():  # Python runs its handler there only
        yield
        return
    arrived: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: arrived.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if arrived:
            signal.raise_signal(signal.SIGINT)


def forget_escaped_exec() -> None:
    """Clear CPython 3.11's memory of a KeyboardInterrupt that escaped an `exec()` of a
    string: each such `exec()` that ends well clears it."""
    exec("")  # noqa: S102 - a constant empty program, run for its side effect on the interpreter

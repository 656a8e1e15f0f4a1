"""Run quiz code snippets, each in a fresh namespace, and report what each one printed.

Not imported: `lossgrade.quiz.snippets` passes this file's text to `python -c`, in a
temporary folder, so that quiz code never runs inside the grader. Reads a JSON list of code
strings on stdin; writes one JSON list of {output, error, line, error_types, warnings} on
stdout: what each printed, how it failed (the exception's class and its bases, for claims
such as "raises RuntimeError"), and every warning it emitted (recorded, each time, for
claims such as "torch warns"). Randomness is seeded before each snippet, and each gets its
own time limit.
"""
from __future__ import annotations

import contextlib
import io
import json
import random
import signal
import sys
import traceback
import warnings

FILENAME = "<quiz code>"
LIMIT_S = int(sys.argv[1])


def _out_of_time(signum: int, frame: object) -> None:
    raise TimeoutError(f"the code ran longer than {LIMIT_S} s")


def _names(cls: type) -> list[str]:
    """A class's name and its bases' names, so that a claim may name a base class."""
    return [c.__name__ for c in cls.__mro__ if c is not object]


def run(code: str) -> dict[str, object]:
    random.seed(0)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(0)
    printed = io.StringIO()
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, _out_of_time)
        signal.alarm(LIMIT_S)
    caught: list[warnings.WarningMessage] = []
    result: dict[str, object] = {"error": None, "line": None, "error_types": []}
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile(code, FILENAME, "exec"), {"__name__": "__main__"})  # noqa: S102  (running it is the point)
    except BaseException as exc:  # noqa: BLE001  (a snippet's SystemExit or error must not end the others)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == FILENAME]
        error = traceback.format_exception_only(type(exc), exc)[-1].strip()
        result = {"error": error, "line": frames[-1].lineno if frames else None, "error_types": _names(type(exc))}
    finally:
        if hasattr(signal, "SIGALRM"):
            signal.alarm(0)
    seen = [{"categories": _names(w.category), "message": str(w.message)} for w in caught or []]
    return {"output": printed.getvalue(), **result, "warnings": seen}


def main() -> None:
    snippets = json.load(sys.stdin)
    if any("torch" in code for code in snippets):
        import torch  # (imported once, up front, so that seeding covers the first snippet)

        if any("optim" in code for code in snippets):
            # An optimizer's first step imports torch._dynamo, seconds on a busy machine: paid
            # here, once, rather than inside the time limit of whichever snippet comes first.
            weight = torch.zeros(1, requires_grad=True)
            weight.sum().backward()
            torch.optim.SGD([weight], lr=0.1).step()
    results = [run(code) for code in snippets]
    json.dump(results, sys.stdout)


main()

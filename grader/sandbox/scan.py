"""Read a learner's source before any of it runs, and refuse code that reaches for the grader.

Learner code runs in a worker process beside the grader's own guards and drivers, which
are objects in that process: code that can find them (through the garbage collector,
`sys.modules`, frames, closures, ctypes...) can take them apart (replace the hook, destroy
the refusing library, clear the record) and then call what the exercise forbids. The
worker's guards stay, as a second line; this scan is the first, and it runs here, in the
trusted process, on the source the worker would receive (a file, or the module that
`lossgrade.check` builds from a notebook's functions).

What is refused, and the words that tell a learner why, are `refused.py`; the walk of a
file's syntax tree that applies them is `scanner.py`. Here, the entry: every file handed in,
each file's verdict kept once per process.
"""
from __future__ import annotations

import ast
import functools

from lossgrade.sandbox.refused import Refusal
from lossgrade.sandbox.scanner import Scanner


def scan(files: dict[str, str]) -> Refusal | None:
    """The first thing in `files` (name -> source) that learner code may not do, or None.
    A file that does not parse is left to the worker, which reports its SyntaxError."""
    handed_in = frozenset(n.removesuffix(".py") for n in files)
    for name, source in files.items():
        found = _scan_file(name, source, handed_in)
        if found is not None:
            return found
    return None


@functools.lru_cache(maxsize=4096)
def _scan_file(name: str, source: str, handed_in: frozenset[str]) -> Refusal | None:
    """One file's verdict, once per process: it depends on the text, the file's name and the
    modules handed in beside it, nothing else, and a class repeats its files (untouched
    stubs, the same helper) while each learner's set of files differs."""
    try:
        tree = ast.parse(source, filename=name)
    except (SyntaxError, ValueError):
        return None
    scanner = Scanner(handed_in)
    found = scanner.refusal(tree)
    if found is None:
        return None
    line, what, why = found
    lines = source.splitlines()
    code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return Refusal(name, line, code[:120], what, why, scanner.unknown)

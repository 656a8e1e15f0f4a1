"""Run the code that quiz questions carry, in one subprocess for all of them.

A question's code is the proof of its answer key, so validation and the test suite run it
and compare what it prints with the key. One interpreter runs every snippet (each in a fresh
namespace) because importing torch costs about 1.6 s: paid once, not once per question.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PER_SNIPPET_S = 10
_RUNNER = Path(__file__).with_name("_snippet_runner.py")


@dataclass(frozen=True)
class Run:
    """What one snippet printed, and how it failed, if it did."""

    output: str
    error: str | None = None
    line: int | None = None  # the line of the snippet that raised, counted from 1
    error_types: tuple[str, ...] = ()  # the exception's class name and its bases' names
    warnings: tuple[tuple[tuple[str, ...], str], ...] = ()  # (category and bases, message) each


def run_all(snippets: list[str], per_snippet_s: int = PER_SNIPPET_S) -> list[Run]:
    """Run every snippet in order and return one Run each (an error for all of them when
    the runner itself dies, e.g. on a hard crash or a hung interpreter)."""
    if not snippets:
        return []
    env = {**os.environ, "PYTHONHASHSEED": "0", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory(prefix="lossgrade-quiz-") as scratch:
        try:
            done = subprocess.run(
                [sys.executable, "-c", _RUNNER.read_text(encoding="utf-8"), str(per_snippet_s)],
                input=json.dumps(snippets),
                capture_output=True,
                text=True,
                check=False,  # a failing runner is reported below, for every snippet
                cwd=scratch,
                env=env,
                timeout=per_snippet_s * len(snippets) + 30,
            )
        except subprocess.TimeoutExpired:
            return [Run("", "the code runner timed out")] * len(snippets)
    try:
        results = json.loads(done.stdout)
        return [Run(r["output"], r["error"], r["line"], tuple(r["error_types"]),
                    tuple((tuple(w["categories"]), w["message"]) for w in r["warnings"])) for r in results]
    except (ValueError, KeyError, TypeError):
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return [Run("", f"the code runner crashed: {reason}")] * len(snippets)

"""The exit-code policy every `lossgrade` command follows.

- 0 (OK): everything asked for was done and passed;
- 1 (FAILED): the work was graded (or the quiz answers were marked) and something failed;
- 130 (INTERRUPTED): Ctrl-C, which ends every command quietly;
- 2 (USAGE): the request could not be carried out as given: a usage error, or a set-up
  error in what the user gave us (unknown exercise, malformed file, a course folder or quiz
  that does not validate, a missing folder).

A course folder or quiz file that does not validate is a set-up error (2), whether
`course check` or `quiz --validate` finds it: the instructor's material is input to fix, not
work that was graded.
"""
from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # some check or answer failed, or the grader failed to grade some work
    USAGE = 2  # bad input or set-up: unknown exercise, malformed file, invalid course or quiz
    INTERRUPTED = 130  # stopped by Ctrl-C, quietly: what a shell reports for 128 + SIGINT

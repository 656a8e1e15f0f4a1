"""Grade a class: discover, skip what is already graded, grade the rest in parallel.

A submission is regraded only when what grading sees has changed (its files, the problem
that stops it) or the grader has (the checks, the course, the exercises chosen), or when
asked (`force`). Submissions that cannot be read are "graded" here, at once: zero
everywhere, with the reason.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lossgrade import catalog
from lossgrade.batch import discover, pool, records
from lossgrade.batch import submission as grading
from lossgrade.batch.progress import Progress
from lossgrade.checks import secret


@dataclass
class Batch:
    records: list[records.Record]  # one per learner, in learner order
    exercises: list[catalog.Exercise]
    fresh: int = 0  # graded in this run
    reused: int = 0  # unchanged since an earlier run
    problems: list[str] = field(default_factory=list)  # a line each, for the summary
    grader_failed: bool = False
    seconds: float = 0.0


def exercises_to_grade(chosen: Sequence[str] = ()) -> tuple[list[catalog.Exercise], list[str]]:
    """The exercises to grade (those chosen, else all with checks), and a line about the
    exercises left out for want of checks."""
    available = grading.gradable()
    wanted = [catalog.resolve(text) for text in chosen] or list(catalog.exercises())
    missing = [e.id for e in wanted if e not in available]
    lines = [f"{', '.join(missing)}: no checks yet, not graded"] if missing else []
    return [e for e in wanted if e in available], lines


def grade_class(root: Path, out: Path, *, jobs: int, force: bool = False, chosen: Sequence[str] = (), strong: bool = False,
                progress: Progress | None = None, on_plan: Callable[[int], None] = lambda pending: None) -> Batch:
    started = time.monotonic()
    found = discover.discover(root, exclude=out)
    exercises, problems = exercises_to_grade(chosen)
    key = secret.load_or_create_secret(out / secret.SECRET_FILE)  # the inputs' secret, kept with the results
    fingerprint = f"{records.fingerprint()}:{','.join(e.id for e in exercises)}:{secret.secret_id(key)}"
    batch = Batch([], exercises, problems=problems)
    if found.ignored:
        batch.problems.append(f"ignored {len(found.ignored)} entries that are neither a folder nor a .zip: "
                              + ", ".join(found.ignored[:5]) + (" ..." if len(found.ignored) > 5 else ""))
    done: dict[str, records.Record] = {}
    pending = []
    for submission in found.submissions:
        if submission.problem:
            batch.problems.append(f"{submission.source}: not graded: {submission.problem}")
        batch.problems += [f"{submission.source}: {note}" for note in submission.notes]
        previous = None if force else records.load(out, submission.learner)
        if previous and previous.digest == submission.digest and previous.fingerprint == fingerprint:
            done[submission.learner] = previous
            batch.reused += 1
        elif submission.problem:
            result = grading.unreadable(submission, exercises, f"not graded: {submission.problem}")
            record = records.Record(submission.learner, submission.source, submission.digest, fingerprint, result, submission.notes)
            records.save(out, record)
            done[submission.learner] = record
            batch.fresh += 1
        else:
            pending.append(submission)
    on_plan(len(pending))
    if pending:
        bar = progress or Progress(len(pending), enabled=False)
        pool.prepare(exercises)
        sandboxes = pool.SandboxPlan(strong=strong, hidden=(root, out), secret=key)
        outcome = pool.run(pending, jobs, out, exercises, fingerprint, sandboxes,
                           on_done=lambda record: bar.advance(record.learner))
        bar.close()
        done.update(outcome.graded)
        batch.fresh += len(outcome.graded)
        batch.problems += outcome.sandbox_failures + [f"grader failure: {line}" for line in outcome.grader_failures]
        batch.grader_failed = bool(outcome.grader_failures)
        for submission in pending:
            if submission.learner not in done:  # the grader failed on it: report it, keep nothing
                result = grading.unreadable(submission, exercises, "not graded: the grader failed on this submission")
                done[submission.learner] = records.Record(submission.learner, submission.source, submission.digest,
                                                          fingerprint, result, submission.notes)
    batch.records = [done[s.learner] for s in found.submissions]
    batch.seconds = time.monotonic() - started
    return batch

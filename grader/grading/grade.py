"""Grade a class: discover, skip what is already graded, grade the rest in parallel.

Per learner, an exercise is regraded only when what it reads has changed (its file, the
files it may import, the problem that stops the submission) or the grader has (the checks,
the course), or when asked (`force`); every other exercise keeps its earlier result, so a
partial run (`-e ex01`) into an existing results folder changes ex01 alone, and a later
full run grades only what is missing or changed. Submissions that cannot be read are
"graded" here, at once: zero everywhere, with the reason; they are written only once the
graders have started, so a sandbox that cannot start leaves nothing behind.
"""
from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from lossgrade.course import catalog
from lossgrade.grading import discover, pool, records
from lossgrade.grading.records import Batch
from lossgrade.grading import submission as grading
from lossgrade.grading.progress import Progress
from lossgrade.checks import secret

MAX_FILES_SHOWN = 5




def exercises_to_grade(chosen: Sequence[str] = ()) -> tuple[list[catalog.Exercise], list[str]]:
    """The exercises to grade (those chosen, else all with checks), and a line about the
    exercises left out for want of checks."""
    available = grading.gradable()
    wanted = [catalog.resolve(text) for text in chosen] or list(catalog.exercises())
    missing = [e.id for e in wanted if e not in available]
    lines = [f"{', '.join(missing)}: no checks yet, not graded"] if missing else []
    return [e for e in wanted if e in available], lines


def file_lines(submission: discover.Submission) -> list[str]:
    """The summary's lines about one submission: its notes, and the files not graded that
    may be coursework (code, a second candidate, a link...); files that are plainly not
    coursework (a README, a screenshot) are counted for the whole class instead (see
    `other_files_line`), and listed one by one in gradebook.json."""
    lines = [f"{submission.source}: {note}" for note in submission.notes]
    unread = [f"{path} ({why})" for path, why in submission.ignored.items() if why not in (discover.HIDDEN, discover.NOT_COURSEWORK)]
    if unread:
        more = f" and {len(unread) - MAX_FILES_SHOWN} more (gradebook.json lists them)" if len(unread) > MAX_FILES_SHOWN else ""
        lines.append(f"{submission.source}: not graded: {', '.join(unread[:MAX_FILES_SHOWN])}{more}")
    return lines


def other_files_line(submissions: Sequence[discover.Submission]) -> list[str]:
    """One line for the files that are no coursework, across the class, by name."""
    names = Counter(path.rpartition("/")[2] for s in submissions for path, why in s.ignored.items()
                    if why == discover.NOT_COURSEWORK)
    if not names:
        return []
    shown = ", ".join(f"{name} ({count})" if count > 1 else name for name, count in names.most_common(MAX_FILES_SHOWN))
    more = f" and {len(names) - MAX_FILES_SHOWN} other names" if len(names) > MAX_FILES_SHOWN else ""
    count = sum(names.values())
    line = f"not graded, {discover.NOT_COURSEWORK}: {count} file{'s' if count != 1 else ''}: {shown}{more}"
    return [f"{line} (gradebook.json lists them by learner)"]


def _plan(submission: discover.Submission, previous: records.Record | None, exercises: Sequence[catalog.Exercise],
          fingerprint: str) -> tuple[str, ...] | None:
    """The exercises to grade now; None when the earlier record serves as it is."""
    if previous is None or previous.learner != submission.learner:
        return tuple(e.id for e in exercises)
    todo = tuple(e.id for e in exercises if previous.inputs.get(e.id) != records.inputs(submission, e, fingerprint))
    if todo or previous.inputs.get(records.QUIZZES) != records.inputs(submission, None, fingerprint):
        return todo
    return None


def _stale(submission: discover.Submission, record: records.Record, fingerprint: str) -> list[str]:
    """Exercises whose kept result was graded from other files or by another grader than
    now (a partial run leaves them as they were): a line each for the summary."""
    known = {e.id: e for e in catalog.exercises()}
    return [f"{submission.source}: {e.exercise} keeps its earlier result, graded before its file or the grader "
            "changed: grade without -e to regrade it"
            for e in record.result.exercises
            if e.exercise in known and record.inputs.get(e.exercise) != records.inputs(submission, known[e.exercise], fingerprint)]


def grade_class(root: Path, out: Path, *, jobs: int, force: bool = False, chosen: Sequence[str] = (), strong: bool = False,
                progress: Progress | None = None, on_plan: Callable[[int], None] = lambda pending: None,
                keep: Callable[[str], bool] | None = None, budget: float | None = None,
                found: discover.Discovery | None = None, secret_file: Path | None = None,
                on_graded: Callable[[records.Record], None] = lambda record: None) -> Batch:
    """Grade the class in `root` into `out` (`found`: its discovery, when the caller made it;
    `secret_file`: where the grading secret is kept, by default in `out`; `on_graded`: told
    of each record graded in this run, as it comes);
    `keep(learner id)`, when given, picks the learners to grade (a shard's), before their
    submissions are even read."""
    started = time.monotonic()
    found = found or discover.discover(root, exclude=out, keep=keep)
    exercises, problems = exercises_to_grade(chosen)
    secret_file = secret_file or out / secret.SECRET_FILE  # the inputs' secret: kept with the results by default
    key = secret.load_or_create_secret(secret_file)
    fingerprint = f"{records.fingerprint()}:{secret.secret_id(key)}"
    if budget is not None:  # a record cut short by another budget is not reused
        fingerprint += f":budget={budget:g}"
    batch = Batch([], exercises, problems=problems + list(found.notes), ignored=list(found.ignored),
                  fingerprint=fingerprint)  # the records' own: `merge` compares the exercises apart
    if found.ignored:
        batch.problems.append(f"ignored {len(found.ignored)} entries that are neither a folder nor a .zip: "
                              + ", ".join(found.ignored[:5]) + (" ..." if len(found.ignored) > 5 else ""))
    done: dict[str, records.Record] = {}
    unreadable: list[records.Record] = []
    pending = []
    every = [e for e in grading.gradable() if e in catalog.exercises()]
    for submission in found.submissions:
        if submission.problem:
            batch.problems.append(f"{submission.source}: not graded: {submission.problem}")
        batch.problems += file_lines(submission)
        batch.unread_files += sum(why != discover.HIDDEN for why in submission.ignored.values())
        previous = None if force else records.load(out, submission.learner)
        todo = _plan(submission, previous, exercises, fingerprint)
        if todo is None and previous is not None:
            done[submission.learner] = dataclasses.replace(
                previous, source=submission.source, notes=list(submission.notes), ignored=dict(submission.ignored),
                origins=dict(submission.origins))
            batch.reused += 1
        elif submission.problem:
            result = grading.unreadable(submission, exercises, f"not graded: {submission.problem}")
            kept = {k: v for k, v in previous.inputs.items() if k not in {e.id for e in exercises}} if previous else {}
            result = records.merge(previous.result if previous else None, result)  # -e: the others stay as they were
            unreadable.append(records.make(submission, fingerprint, result, kept))
        else:
            pending.append(dataclasses.replace(submission, todo=todo, previous=previous.result if previous else None,
                                               previous_inputs=dict(previous.inputs) if previous else {}))
    batch.problems += other_files_line(found.submissions)
    on_plan(len(pending))
    if pending:
        bar = progress or Progress(len(pending), enabled=False)

        def done_one(record: records.Record) -> None:
            bar.advance(record.learner)
            on_graded(record)

        pool.prepare(exercises)
        sandboxes = pool.SandboxPlan(strong=strong, hidden=(root, out, secret_file), budget=budget,
                                     secret=key)
        try:
            outcome = pool.run(pending, jobs, out, exercises, fingerprint, sandboxes,
                               on_done=done_one)
        finally:
            bar.close()
        done.update(outcome.graded)
        batch.fresh += len(outcome.graded)
        batch.problems += outcome.sandbox_failures + [f"grader failure: {line}" for line in outcome.grader_failures]
        batch.grader_failed = bool(outcome.grader_failures)
        for submission in pending:
            if submission.learner not in done:  # the grader failed on it: report it, keep nothing
                result = grading.unreadable(submission, exercises, "not graded: the grader failed on this submission")
                done[submission.learner] = records.make(submission, fingerprint, result)
    for record in unreadable:
        records.save(out, record)
        done[record.learner] = record
        batch.fresh += 1
    batch.records = [done[s.learner] for s in found.submissions]
    if chosen:
        batch.problems += [line for s in found.submissions for line in _stale(s, done[s.learner], fingerprint)]
    batch.rejected = [r.learner for r in batch.records if r.result.error]
    order = [e.id for e in catalog.exercises()]
    graded_ids = {e.exercise for r in batch.records for e in r.result.exercises} | {e.id for e in exercises}
    batch.exercises = [e for e in catalog.exercises() if e.id in graded_ids and e in every]
    batch.exercises.sort(key=lambda e: order.index(e.id))
    batch.seconds = time.monotonic() - started
    return batch

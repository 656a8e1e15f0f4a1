"""One record per graded submission, in RESULTS/records/: what a rerun resumes from.

A record holds the learner's `SubmissionResult` with the fingerprint of the grader and course
that graded it and, per exercise (and for the quizzes), the digest of the files that
exercise read: a rerun regrades only the exercises whose files or grader changed, and a
partial run (`grade -e ex01`) keeps every other exercise's result. It also keeps what
discovery said of the submission (notes, the files not graded and why, the files graded
under another name), refreshed on every run. Each is written atomically (a temporary file renamed over the old one), so a
Ctrl-C leaves either the previous record or the new one, never half of either.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lossgrade
from lossgrade.course import catalog
from lossgrade import course
from lossgrade.core import learnerfiles
from lossgrade.grading.discover import QUIZ_ANSWERS, Submission
from lossgrade.grading.files import Files
from lossgrade.core.results import SubmissionResult, submission_from_dict, to_dict
from lossgrade.course.workspace import atomic_write_text

FORMAT = 2  # 2: per-exercise input digests, files not graded
RECORDS = "records"
# What decides a grade: a change to any of these regrades everything on the next run.
GRADER_PARTS = ("core", "course", "checks", "misconceptions", "sandbox", "quiz", "grading/grader.py",
                "grading/files.py", "grading/runner.py")


@dataclass
class Record:
    learner: str
    source: str
    digest: str
    fingerprint: str
    result: SubmissionResult
    notes: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)  # exercise id (or QUIZZES) -> digest of what it read
    ignored: dict[str, str] = field(default_factory=dict)  # a file of the submission -> why it was not graded
    origins: dict[str, str] = field(default_factory=dict)  # "ex01_mse.py" -> the file it was read from

    def to_json(self) -> str:
        data = {"format": FORMAT, "learner": self.learner, "source": self.source, "digest": self.digest,
                "fingerprint": self.fingerprint, "notes": self.notes, "inputs": self.inputs, "ignored": self.ignored,
                "origins": self.origins, "result": to_dict(self.result)}
        return dump(data)


QUIZZES = "quizzes"  # the key of the answers file's digest in `Record.inputs`


def inputs(submission: Submission, exercise: catalog.Exercise | None, fingerprint: str) -> str:
    """What decides the grade of `exercise` (None: the quizzes) in `submission`, as a
    digest: the grader's fingerprint, and the exercise's file and the files it may import
    (or the answers file), with why any was refused."""
    names = (QUIZ_ANSWERS,) if exercise is None else Files.names(exercise)
    key = [fingerprint, submission.problem] + [
        [name, hashlib.sha256(submission.files[name]).hexdigest() if name in submission.files else None,
         submission.rejected.get(name)] for name in names]
    return hashlib.sha256(json.dumps(key).encode("utf-8", "backslashreplace")).hexdigest()[:32]


def make(submission: Submission, fingerprint: str, result: SubmissionResult, kept: dict[str, str] | None = None) -> Record:
    """The record of `result`, graded from `submission`; `kept` holds the input digests of
    the exercises taken over from an earlier record (not graded now), which keep theirs."""
    known = {e.id: e for e in catalog.exercises()}
    kept = kept or {}
    digests = {e.exercise: kept.get(e.exercise) or inputs(submission, known[e.exercise], fingerprint)
               for e in result.exercises if e.exercise in known}
    digests[QUIZZES] = inputs(submission, None, fingerprint)
    return Record(submission.learner, submission.source, submission.digest, fingerprint, result, list(submission.notes),
                  digests, dict(submission.ignored), dict(submission.origins))


def merge(previous: SubmissionResult | None, fresh: SubmissionResult) -> SubmissionResult:
    """`fresh` with the exercises it did not grade taken from `previous`, in course order."""
    if previous is None:
        return fresh
    graded = {e.exercise: e for e in previous.exercises} | {e.exercise: e for e in fresh.exercises}
    order = [e.id for e in catalog.exercises()]
    exercises = sorted(graded.values(), key=lambda e: order.index(e.exercise) if e.exercise in order else len(order))
    return dataclasses.replace(fresh, exercises=exercises)


def utf8(text: str) -> str:
    """`text` with what UTF-8 cannot hold replaced: a learner's exception message can carry
    a lone surrogate, which no file (JSON, CSV, HTML, XML) may."""
    return text.encode("utf-8", "replace").decode("utf-8")


def dump(data: Any) -> str:
    """JSON for a file, writable whatever text the learner produced, and readable: an
    object's keys a line each, and a list's items where one is the value of a key (a
    Gradescope file's tests, say). Written by json's C encoder, which cannot indent: a
    record's indented text took ~3x as long to write, for every learner."""
    return utf8(_lines(data)) + "\n"


def _lines(data: Any, depth: int = 0) -> str:
    if type(data) is dict and data and depth < 2:
        return "{\n" + ",\n".join(json.dumps({key: None}, ensure_ascii=False)[1:-5] + _lines(value, depth + 1)
                                  for key, value in data.items()) + "\n}"
    if type(data) is list and data and depth == 1:
        return "[\n" + ",\n".join(json.dumps(item, ensure_ascii=False) for item in data) + "\n]"
    return json.dumps(data, ensure_ascii=False)


def slug(learner: str) -> str:
    """The learner's file name (see `learnerfiles`), the same for every file of theirs."""
    return learnerfiles.file_stem(learner)


def path_for(out: Path, learner: str) -> Path:
    return out / RECORDS / f"{slug(learner)}.json"


def save(out: Path, record: Record) -> None:
    atomic_write_text(path_for(out, record.learner), record.to_json())


def load(out: Path, learner: str) -> Record | None:
    """The learner's record, or None when there is none or it cannot be read."""
    try:
        data = json.loads(path_for(out, learner).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("learner") != learner:
            return None
        return from_dict(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def from_dict(data: dict[str, Any]) -> Record:
    """A record from its JSON (`Record.to_json`); KeyError, TypeError... when malformed."""
    return Record(data["learner"], data["source"], data["digest"], data["fingerprint"],
                  submission_from_dict(data["result"]), list(data.get("notes", [])), dict(data.get("inputs", {})),
                  dict(data.get("ignored", {})), dict(data.get("origins", {})))


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """A digest of the grader and the course: the checks, the sandbox, the quizzes, the
    reference solutions and the metadata (of the built-in course and of an instructor's
    course folder layered over it), and lossgrade's version."""
    package = Path(lossgrade.__file__).parent
    digest = hashlib.sha256(lossgrade.__version__.encode())
    for top in [package / part for part in GRADER_PARTS] + course.roots():
        for file in files_under(top):
            digest.update(file.relative_to(top.parent).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def files_under(top: Path) -> list[Path]:
    """Every file under `top` (or `top` itself), following links (the built-in course is
    reached through symlinks in a clone), without caches, in a stable order."""
    if top.is_file():
        return [top]
    found = []
    for folder, dirs, files in os.walk(top, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        found += [Path(folder) / name for name in sorted(files) if not name.endswith(".pyc")]
    return found


@dataclass
class Batch:
    records: list[Record]  # one per learner, in learner order
    exercises: list[catalog.Exercise]  # the gradebook's columns: every exercise graded, now or before
    fresh: int = 0  # graded in this run
    reused: int = 0  # unchanged since an earlier run
    problems: list[str] = field(default_factory=list)  # a line each, for the summary
    grader_failed: bool = False
    seconds: float = 0.0
    fingerprint: str = ""  # of the grader, the course, the secret and the budget: what a record must match
    rejected: list[str] = field(default_factory=list)  # learners whose submission could not be graded at all
    unread_files: int = 0  # files in submissions that were not graded (each reported)
    ignored: list[str] = field(default_factory=list)  # entries of the class folder that are no submission

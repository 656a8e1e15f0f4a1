"""One record per graded submission, in RESULTS/records/: what a rerun resumes from.

A record holds the learner's `SubmissionResult` with the digest of the files it graded and
the fingerprint of the grader and course that graded them; a rerun reuses it only when both
still match. Each is written atomically (a temporary file renamed over the old one), so a
Ctrl-C leaves either the previous record or the new one, never half of either.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lossgrade
from lossgrade import course, learnerfiles
from lossgrade.results import SubmissionResult, submission_from_dict, to_dict
from lossgrade.workspace import atomic_write_text

FORMAT = 1
RECORDS = "records"
# What decides a grade: a change to any of these regrades everything on the next run.
GRADER_PARTS = ("checks", "misconceptions", "sandbox", "quiz", "runner.py", "results.py", "catalog.py", "course.py",
                "numerics.py")


@dataclass
class Record:
    learner: str
    source: str
    digest: str
    fingerprint: str
    result: SubmissionResult
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        data = {"format": FORMAT, "learner": self.learner, "source": self.source, "digest": self.digest,
                "fingerprint": self.fingerprint, "notes": self.notes, "result": to_dict(self.result)}
        return dump(data)


def utf8(text: str) -> str:
    """`text` with what UTF-8 cannot hold replaced: a learner's exception message can carry
    a lone surrogate, which no file (JSON, CSV, HTML, XML) may."""
    return text.encode("utf-8", "replace").decode("utf-8")


def dump(data: Any) -> str:
    """JSON for a file: readable, and writable whatever text the learner produced."""
    return utf8(json.dumps(data, indent=1, ensure_ascii=False)) + "\n"


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
                  submission_from_dict(data["result"]), list(data.get("notes", [])))


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

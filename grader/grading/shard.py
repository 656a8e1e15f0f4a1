"""A class too large for one machine: `lossgrade grade --shard i/N` grades one N-th of it.

A learner belongs to shard `shard_of(id, N)`, a hash of the learner id alone: the same
learner lands in the same shard on every run, on every machine, whoever else is in the class
(so a rerun or a resume of shard i finds its own records), and the shards are balanced the
way a good hash is: each holds N-th of the class give or take a few (the spread is measured
in docs/SCALE.md). Shards are numbered from 1, as Jest and Playwright number theirs.

Discovery keeps only the entries of SUBMISSIONS whose learner id the shard owns, before it
reads them: a bad zip or a learner id claimed twice is reported by one shard only, the one
that owns the id (both claims of `alice` hash alike), so merged shards never repeat a line.

At the end of a sharded run, `RESULTS/shard.json` (the manifest) says which shard of how
many this is, what graded it (the fingerprint of the grader, the course and the exercises),
the names in the class folder when it was graded (every shard must have seen the same), and
which learners it holds with the digest of each one's record; the few records a run does
not keep on disk (a grader failure is retried next time) travel inline. `lossgrade merge`
reads nothing else. Each run removes the manifest first and writes it last, so a shard
that was interrupted has none and cannot be merged by mistake.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # the batch modules load only when a command runs
    from lossgrade.grading.records import Batch

MANIFEST = "shard.json"
FORMAT = 1


@dataclass(frozen=True)
class Spec:
    index: int  # 1 .. count
    count: int

    def owns(self, learner: str) -> bool:
        return shard_of(learner, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(learner: str, count: int) -> int:
    """The shard (1 .. count) that grades `learner`: the first 8 bytes of the id's SHA-256,
    modulo count. Depends on the id and count alone."""
    digest = hashlib.sha256(learner.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def parse(text: str) -> Spec:
    """`i/N` with 1 <= i <= N, e.g. `3/8`; ValueError says what is wrong."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not of the form i/N (e.g. 1/4: the first of four shards)")
    index, count = int(match[1]), int(match[2])
    if count < 1:
        raise ValueError(f"{text!r}: the number of shards must be at least 1")
    if not 1 <= index <= count:
        raise ValueError(f"{text!r}: shards are numbered from 1 to {count} (1/{count} ... {count}/{count})")
    return Spec(index, count)


def option(ctx: click.Context, param: click.Parameter, value: str | None) -> Spec | None:
    """The click callback of `--shard`: a bad value is a usage error (exit 2)."""
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def forget(out: Path) -> None:
    """Remove a previous run's manifest: until this run ends, the folder is no finished shard."""
    (out / MANIFEST).unlink(missing_ok=True)


def class_listing(submissions: Path, out: Path) -> dict[str, Any]:
    """What every shard must have seen alike: the names in the class folder (not their
    content, which a shard reads only for its own learners). A learner added after some
    shards were graded changes it."""
    skip = out.resolve()
    names = sorted(entry.name for entry in os.scandir(submissions)
                   if not entry.name.startswith(".") and Path(entry.path).resolve() != skip)
    listing = "\n".join(names).encode("utf-8", "surrogateescape")
    return {"entries": len(names), "digest": hashlib.sha256(listing).hexdigest()}


def write_manifest(out: Path, spec: Spec, batch: Batch, submissions: Path) -> Path:
    """Record the shard, what graded it and the learners it holds (see the module's doc)."""
    from lossgrade import __version__
    from lossgrade.grading import records
    from lossgrade.course.workspace import atomic_write_text

    learners: list[dict[str, Any]] = []
    for record in batch.records:
        entry: dict[str, Any] = {"learner": record.learner, "digest": record.digest}
        kept = records.load(out, record.learner)
        if kept is None or kept.to_json() != record.to_json():  # not saved: a grader failure
            entry["record"] = json.loads(record.to_json())
        learners.append(entry)
    data = {
        "format": FORMAT,
        "shard": spec.index,
        "of": spec.count,
        "fingerprint": batch.fingerprint,
        "exercises": [e.id for e in batch.exercises],
        "class": class_listing(submissions, out),
        "lossgrade": __version__,
        "grader_failed": batch.grader_failed,
        "problems": batch.problems,
        "learners": learners,
    }
    path = out / MANIFEST
    atomic_write_text(path, records.dump(data))
    return path

"""`lossgrade merge R1 R2 ... --out R`: the results of every shard, as one run's.

Each shard's manifest (`shard.json`, see `shard`) names its learners; their records come
from the shard's `records/` (or from the manifest, for the few a run does not keep), are
checked against the manifest, and are written out by the grader's own writer
(`exports.write_all`), in the order one run would use (by learner id): the gradebooks, the
Gradescope files, JUnit and the reports come out as one run's, byte for byte. The records
are copied too, so the merged folder resumes like one run's (`lossgrade grade` into it
regrades only what changed).

Refused, in one line with exit code 2: a folder that is no finished shard, shards of
different splits (1/4 and 2/3), a missing shard, shards that saw different class folders
(a learner added after some shards were graded), shards graded by different graders,
courses or exercises (or by one other than the merge's own, whose course decides what the
reports show), a learner in the wrong shard, a learner in two shards with different
results, and a record that changed after its shard's manifest was written.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lossgrade.grading import shard as shards
from lossgrade.core.errors import LossgradeError

if TYPE_CHECKING:
    from lossgrade.grading.records import Batch
    from lossgrade.grading.records import Record


@dataclass
class Shard:
    folder: Path
    spec: shards.Spec
    fingerprint: str
    exercises: list[str]
    listing: dict[str, Any]  # the class folder's names, as the shard saw them
    grader_failed: bool
    problems: list[str]
    learners: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return f"{self.folder} (shard {self.spec})"


def read_shard(folder: Path) -> Shard:
    path = folder / shards.MANIFEST
    if not folder.is_dir():
        raise LossgradeError(f"{folder} is not a folder: give the results folders of the shards")
    if not path.is_file():
        raise LossgradeError(f"{folder} holds no {shards.MANIFEST}: it is not the results of a finished "
                             "`lossgrade grade --shard I/N` (an interrupted shard has none: run it again)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != shards.FORMAT:
            raise LossgradeError(f"{path}: format {data.get('format')!r}, this lossgrade reads {shards.FORMAT}; "
                                 "grade the shard again with this version")
        spec = shards.parse(f"{data['shard']}/{data['of']}")
        learners = list(data["learners"])
        if not all(isinstance(e, dict) and isinstance(e.get("learner"), str) and isinstance(e.get("digest"), str)
                   for e in learners):
            raise ValueError("a learner entry is malformed")
        return Shard(folder, spec, str(data["fingerprint"]), [str(e) for e in data["exercises"]], dict(data["class"]),
                     bool(data["grader_failed"]), [str(line) for line in data["problems"]], learners)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LossgradeError(f"{path} cannot be read ({exc}); grade the shard again") from None


def check_split(found: list[Shard]) -> None:
    """One split, every shard of it, graded alike."""
    first = found[0]
    for other in found[1:]:
        if other.spec.count != first.spec.count:
            raise LossgradeError(f"{first.name} and {other.name} come from different splits: "
                                 f"merge the {first.spec.count} shards of one split")
        if other.exercises != first.exercises:
            raise LossgradeError(f"{first.name} graded {', '.join(first.exercises) or 'no exercise'} but "
                                 f"{other.name} graded {', '.join(other.exercises) or 'no exercise'}: "
                                 "grade every shard with the same --exercise options")
        if other.listing != first.listing:
            raise LossgradeError(f"the class folder held different entries when {first.name} ({first.listing['entries']}) "
                                 f"and {other.name} ({other.listing['entries']}) were graded: a learner was added or "
                                 "removed in between; grade every shard again (each regrades only what changed)")
        if other.fingerprint != first.fingerprint:
            raise LossgradeError(f"{first.name} and {other.name} were graded by different versions of lossgrade "
                                 "or of the course: grade every shard with the same ones")
    count = first.spec.count
    missing = sorted(set(range(1, count + 1)) - {s.spec.index for s in found})
    if missing:
        shown = ", ".join(f"{index}/{count}" for index in missing)
        raise LossgradeError(f"shard {shown} of {count} {'is' if len(missing) == 1 else 'are'} missing: "
                             f"give the results folder of every shard from 1/{count} to {count}/{count}")


def collect(found: list[Shard]) -> dict[str, Record]:
    """Every learner's record, checked against its shard's manifest."""
    from lossgrade.grading import records

    merged: dict[str, tuple[Record, Shard]] = {}
    for one in found:
        for entry in one.learners:
            learner = entry["learner"]
            if not one.spec.owns(learner):
                raise LossgradeError(f"{one.name} holds {learner!r}, who belongs to shard "
                                     f"{shards.shard_of(learner, one.spec.count)}/{one.spec.count}: "
                                     "grade the shards again with one version of lossgrade")
            if "record" in entry:
                try:
                    record: Record | None = records.from_dict(entry["record"])
                except (ValueError, KeyError, TypeError, AttributeError):
                    record = None
            else:
                record = records.load(one.folder, learner)
            if record is None or record.digest != entry["digest"] or record.fingerprint != one.fingerprint:
                raise LossgradeError(f"{one.name}: the record of {learner!r} is missing or changed since the shard "
                                     f"was graded ({records.path_for(one.folder, learner)}); grade the shard again")
            if learner in merged:
                before, where = merged[learner]
                if untimed(json.loads(before.to_json())) != untimed(json.loads(record.to_json())):
                    raise LossgradeError(f"{learner!r} is in {where.name} and in {one.name} with different "
                                         "results: merge one of them")
                continue
            merged[learner] = (record, one)
    return {learner: record for learner, (record, _) in merged.items()}


def untimed(data: Any) -> Any:
    """A record's data without its timings: two runs of one submission differ only there."""
    if isinstance(data, dict):
        return {key: untimed(value) for key, value in data.items() if key != "duration"}
    if isinstance(data, list):
        return [untimed(value) for value in data]
    return data


def merge(folders: list[Path], out: Path, with_junit: bool) -> tuple[Batch, list[Shard], list[Path]]:
    from lossgrade.course import catalog
    from lossgrade.output import exports
    from lossgrade.grading import records
    from lossgrade.grading.records import Batch

    found = [read_shard(folder) for folder in folders]
    check_split(found)
    ours = records.fingerprint()
    if found[0].fingerprint.partition(":")[0] != ours:
        raise LossgradeError("the shards were graded by another version of lossgrade or of the course than this "
                             "merge runs with (the course decides what the reports show): merge with the same "
                             "lossgrade and the same --course")
    inputs = {folder.resolve() for folder in folders}
    if out.resolve() in inputs:
        raise LossgradeError(f"{out} is one of the shards: merge into a new folder with --out")
    exercises = [catalog.resolve(exercise) for exercise in found[0].exercises]
    learners = collect(found)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LossgradeError(f"cannot create the results folder {out} ({exc.strerror}); choose another with --out")
    shards.forget(out)  # merged, this is one run's folder, no shard's
    batch = Batch([learners[learner] for learner in sorted(learners)], exercises, fingerprint=found[0].fingerprint,
                  grader_failed=any(s.grader_failed for s in found))
    batch.rejected = [r.learner for r in batch.records if r.result.error]  # as one run counts them
    inline = {e["learner"] for s in found for e in s.learners if "record" in e}
    for record in batch.records:
        if record.learner not in inline:  # as one run keeps them: a grader failure is not kept
            records.save(out, record)
    written = exports.write_all(out, batch, with_junit)
    return batch, sorted(found, key=lambda s: s.spec.index), written

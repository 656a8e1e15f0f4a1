"""Write every output of a batch into RESULTS, each file atomically: the gradebooks, a
Gradescope `results.json` per learner, JUnit XML when asked, and the HTML reports."""
from __future__ import annotations

import datetime
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from lossgrade.grading import discover, records
from lossgrade.output import gradebook, gradescope, junit
from lossgrade.grading.records import Batch
from lossgrade.course.workspace import atomic_write_text

if TYPE_CHECKING:
    from lossgrade.output import html


def gradescope_path(out: Path, learner: str) -> Path:
    return out / "gradescope" / records.slug(learner) / "results.json"


def write_all(out: Path, batch: Batch, with_junit: bool = False, now: datetime.datetime | None = None,
              written: Collection[str] = ()) -> list[Path]:
    """Write the outputs, each learner's own as of `now` (by default, this moment), but
    for the learners whose own files are `written` already (`write_learner_files`, as
    each was graded); return the main ones, for the summary."""
    from lossgrade.output import html

    now = now or datetime.datetime.now(datetime.timezone.utc)
    paths = [out / "gradebook.csv", out / "gradebook.json"]
    atomic_write_text(paths[0], gradebook.to_csv(batch.records, batch.exercises))
    atomic_write_text(paths[1], gradebook.to_json(batch.records, batch.exercises, batch.ignored))
    for record in batch.records:
        if record.learner not in written:
            _write_gradescope(out, record)
    paths.append(out / "gradescope")
    if with_junit:
        paths.append(out / "junit.xml")
        atomic_write_text(paths[-1], junit.to_xml(batch.records))
    paths.append(html.write_reports(out, [record.result for record in batch.records], now=now,
                                    attention=attention(batch), written=written))
    return paths


def write_learner_files(out: Path, record: records.Record, now: datetime.datetime) -> None:
    """The learner's own files, exactly as `write_all` writes them as of `now`: their
    Gradescope results and their report. Written as each learner is graded, while the
    other cores grade the next, rather than all at the end on one (~7 ms a learner)."""
    from lossgrade.output import html

    _write_gradescope(out, record)
    html.write_learner_report(out, record.result, now, html.files_said(attention_of(record)).get(record.learner, []))


def _write_gradescope(out: Path, record: records.Record) -> None:
    atomic_write_text(gradescope_path(out, record.learner), records.dump(gradescope.results(record)))


def attention(batch: Batch) -> list[html.Attention]:
    """What the class report's "Needs a look" lists, learner by learner."""
    from lossgrade.output.html import Attention

    rows = [Attention("(class folder)", "not a submission", f"{name}: neither a folder nor a .zip, not graded")
            for name in batch.ignored]
    for record in batch.records:
        rows += attention_of(record)
    return rows


def attention_of(record: records.Record) -> list[html.Attention]:
    """The rows of "Needs a look" for one learner."""
    from lossgrade.output.html import Attention

    rows = []
    if record.result.error:
        rows.append(Attention(record.learner, "not graded", record.result.error))
    rows += [Attention(record.learner, "violation", what) for what in gradebook.violations(record.result)]
    rows += [Attention(record.learner, "file not graded", f"{path}: {why}") for path, why in record.ignored.items()
             if why != discover.HIDDEN]
    rows += [Attention(record.learner, "note", note) for note in record.notes if note not in (record.result.error or "")]
    return rows

"""Write every output of a batch into RESULTS, each file atomically: the gradebooks, a
Gradescope `results.json` per learner, JUnit XML when asked, and the HTML reports."""
from __future__ import annotations

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


def write_all(out: Path, batch: Batch, with_junit: bool = False) -> list[Path]:
    """Write the outputs; return the main ones, for the summary."""
    from lossgrade.output import html

    written = [out / "gradebook.csv", out / "gradebook.json"]
    atomic_write_text(written[0], gradebook.to_csv(batch.records, batch.exercises))
    atomic_write_text(written[1], gradebook.to_json(batch.records, batch.exercises, batch.ignored))
    for record in batch.records:
        atomic_write_text(gradescope_path(out, record.learner), records.dump(gradescope.results(record)))
    written.append(out / "gradescope")
    if with_junit:
        written.append(out / "junit.xml")
        atomic_write_text(written[-1], junit.to_xml(batch.records))
    written.append(html.write_reports(out, [record.result for record in batch.records], attention=attention(batch)))
    return written


def attention(batch: Batch) -> list[html.Attention]:
    """What the class report's "Needs a look" lists, learner by learner."""
    from lossgrade.output.html import Attention

    rows = [Attention("(class folder)", "not a submission", f"{name}: neither a folder nor a .zip, not graded")
            for name in batch.ignored]
    for record in batch.records:
        if record.result.error:
            rows.append(Attention(record.learner, "not graded", record.result.error))
        rows += [Attention(record.learner, "violation", what) for what in gradebook.violations(record.result)]
        rows += [Attention(record.learner, "file not graded", f"{path}: {why}") for path, why in record.ignored.items()
                 if why != discover.HIDDEN]
        rows += [Attention(record.learner, "note", note) for note in record.notes if note not in (record.result.error or "")]
    return rows

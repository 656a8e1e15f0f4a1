"""Grade the verdict corpus (tests/corpus/exNN/{correct,wrong}/*.py) through the real batch
grader and measure the verdicts; see README.md in this folder.

    python tests/corpus/grade_corpus.py [ex01 ex02 ...] [--jobs N] [--secrets K]

prints, per exercise: correct passed, wrong failed, named rightly, named wrongly, and the
files that miss. tests/test_corpus.py asserts on the same figures. `--secrets K` grades the
corpus again under K - 1 other grading secrets and names every file whose score, status or
named mistakes change with the secret (a check whose verdict on a mistake depends on the
draw): a course's grade must not.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent
REPO = CORPUS.parents[1]
HEADER = re.compile(r"^#\s*mistake:\s*(.+?)\s*$", re.MULTILINE)


@dataclass
class Entry:
    exercise: str  # "ex01"
    kind: str  # "correct" or "wrong"
    path: Path
    declared: frozenset[str] = frozenset()  # the ids that may be named; empty for `none`

    @property
    def learner(self) -> str:
        return f"{self.exercise}-{self.kind}-{self.path.stem}"


@dataclass
class Verdict:
    entry: Entry
    status: str
    named: frozenset[str]
    first_failure: str = ""
    score: float = 0.0


@dataclass
class Figures:
    exercise: str
    correct: int = 0
    correct_passed: int = 0
    wrong: int = 0
    wrong_failed: int = 0
    catalogued: int = 0  # wrong files whose header names a mistake (not `none`)
    named_rightly: int = 0
    named_wrongly: int = 0
    misses: list[str] = field(default_factory=list)

    def line(self) -> str:
        share = f"{100 * self.named_rightly / self.wrong:.0f}%" if self.wrong else "-"
        return (f"{self.exercise}: correct passed {self.correct_passed}/{self.correct}, wrong failed "
                f"{self.wrong_failed}/{self.wrong}, named rightly {self.named_rightly}/{self.wrong} ({share}; "
                f"{self.catalogued} declare a catalogued mistake), named wrongly {self.named_wrongly}")


def declared(path: Path) -> frozenset[str]:
    """The ids a wrong file's `# mistake:` header allows (empty for `none`)."""
    found = HEADER.search(path.read_text(encoding="utf-8"))
    if not found:
        raise ValueError(f"{path}: a wrong file needs a '# mistake: <id> | none' header")
    ids = {part.strip() for part in found.group(1).split("|")}
    return frozenset() if ids == {"none"} else frozenset(ids)


def entries(exercises: list[str] | None = None) -> list[Entry]:
    found = []
    for folder in sorted(CORPUS.glob("ex[0-9][0-9]")):
        if exercises and folder.name not in exercises:
            continue
        for kind in ("correct", "wrong"):
            for path in sorted((folder / kind).glob("*.py")):
                found.append(Entry(folder.name, kind, path, declared(path) if kind == "wrong" else frozenset()))
    return found


CORPUS_SECRET = "c0" * 32


def grade(chosen: list[Entry], jobs: int = 2, secret: str = CORPUS_SECRET) -> dict[str, Verdict]:
    """Grade every entry as one learner of a class, with `lossgrade grade`, in a subprocess,
    drawing the hidden inputs from `secret` (hex)."""
    from lossgrade.course import catalog

    with tempfile.TemporaryDirectory(prefix="lossgrade-corpus-") as tmp:
        klass, out = Path(tmp) / "class", Path(tmp) / "results"
        for entry in chosen:
            folder = klass / entry.learner
            folder.mkdir(parents=True)
            shutil.copyfile(entry.path, folder / catalog.resolve(entry.exercise).file)
        exercises = sorted({e.exercise for e in chosen})
        # One fixed grading secret: the figures are measured on the same inputs every run (a
        # fresh secret per run draws other inputs, on which two ex05 smoothing mistakes can tie).
        secret_file = Path(tmp) / "secret"
        secret_file.write_text(secret + "\n")
        command = [sys.executable, "-m", "lossgrade", "grade", str(klass), "--out", str(out), "--jobs", str(jobs),
                   "--secret", str(secret_file)]
        for exercise in exercises:
            command += ["-e", exercise]
        env = {**os.environ, "NO_COLOR": "1"}
        run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp, timeout=3600, check=False)
        book = out / "gradebook.json"
        if not book.is_file():
            raise RuntimeError(f"lossgrade grade wrote no gradebook (exit {run.returncode}): {run.stderr[-2000:]}")
        records = json.loads(book.read_text(encoding="utf-8"))["records"]
    by_learner = {e.learner: e for e in chosen}
    verdicts: dict[str, Verdict] = {}
    for record in records:
        entry = by_learner.get(record["learner"])
        if entry is None or record["exercise"] != entry.exercise:
            continue
        failing = [c for c in record["checks"] if c["outcome"] not in ("passed", "skipped")]
        first = ""
        if failing:
            feedback = failing[0].get("feedback") or {}
            first = f"{failing[0]['id']}: {(feedback.get('message') or '')[:200]}"
        named = frozenset(m["id"] for m in record["misconceptions"])
        verdicts[entry.learner] = Verdict(entry, record["status"], named, first, record["score"])
    return verdicts


def measure(chosen: list[Entry], verdicts: dict[str, Verdict]) -> list[Figures]:
    figures: dict[str, Figures] = {}
    for entry in chosen:
        fig = figures.setdefault(entry.exercise, Figures(entry.exercise))
        verdict = verdicts.get(entry.learner)
        if verdict is None:
            fig.misses.append(f"{entry.path}: not graded")
            continue
        where = f"{entry.path.relative_to(CORPUS)}"
        if entry.kind == "correct":
            fig.correct += 1
            if verdict.status == "passed" and not verdict.named:
                fig.correct_passed += 1
            else:
                fig.misses.append(f"{where}: FALSE FAIL ({verdict.status}, named {sorted(verdict.named)}) "
                                  f"{verdict.first_failure}")
            continue
        fig.wrong += 1
        if verdict.status != "passed":
            fig.wrong_failed += 1
        else:
            fig.misses.append(f"{where}: FALSE PASS")
        if entry.declared:
            fig.catalogued += 1
            if verdict.named & entry.declared:
                fig.named_rightly += 1
            elif not verdict.named:
                fig.misses.append(f"{where}: nothing named (declared {sorted(entry.declared)}) "
                                  f"{verdict.first_failure}")
        extra = verdict.named - entry.declared
        if extra:
            fig.named_wrongly += 1
            fig.misses.append(f"{where}: WRONG NAME {sorted(extra)} (declared {sorted(entry.declared) or 'none'})")
    return [figures[k] for k in sorted(figures)]


def changed_by_secret(chosen: list[Entry], jobs: int, secrets: int) -> list[str]:
    """The files whose score, status or named mistakes differ between the corpus's secret and
    `secrets - 1` others, each with what it got under each."""
    runs = [grade(chosen, jobs, secret) for secret in [CORPUS_SECRET, *(f"{k:02x}" * 32 for k in range(1, secrets))]]
    changed = []
    for entry in chosen:
        seen = [(v.score, v.status, sorted(v.named)) if v else None
                for v in (run.get(entry.learner) for run in runs)]
        if any(s != seen[0] for s in seen):
            changed.append(f"{entry.path.relative_to(CORPUS)}: {' | '.join(map(str, seen))}")
    return changed


def _option(argv: list[str], name: str, default: int) -> tuple[int, list[str]]:
    if name not in argv:
        return default, argv
    index = argv.index(name)
    return int(argv[index + 1]), argv[:index] + argv[index + 2:]


def main(argv: list[str]) -> int:
    jobs, argv = _option(argv, "--jobs", 2)
    secrets, argv = _option(argv, "--secrets", 1)
    chosen = entries(argv or None)
    if secrets > 1:
        changed = changed_by_secret(chosen, jobs, secrets)
        print(f"{len(changed)} of {len(chosen)} files graded otherwise under another of {secrets} secrets")
        for line in changed:
            print(f"  {line}")
        return 1 if changed else 0
    figures = measure(chosen, grade(chosen, jobs))
    for fig in figures:
        print(fig.line())
        for miss in fig.misses:
            print("   ", miss)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main(sys.argv[1:]))

"""Shards on one machine: one `lossgrade grade --jobs C` against N processes of
`lossgrade grade --shard i/N --jobs C/N` run at once, then `lossgrade merge`, for each N.

On one machine shards add no cores: this measures what a split costs (each shard pays the
start-up: torch, the reference solutions, the sandboxes; the largest shard finishes last;
the merge) and checks that the merged gradebook equals the single run's. Across machines,
each shard brings its own cores (docs/SCALE.md).

    python bench/shard_speedup.py [--count 200] [--shards 2,4] [--cores N] [--exercise ex01 ...]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classgen
from batch_grading import FILES, cpu_of_children, timed


def grade_command(folder: Path, out: Path, jobs: int, exercises: list[str], shard: str | None = None) -> list[str]:
    command = [sys.executable, "-m", "lossgrade", "grade", str(folder), "--out", str(out), "--jobs", str(jobs), "--force"]
    command += [option for exercise in exercises for option in ("-e", exercise)]
    return command + (["--shard", shard] if shard else [])


def shards(folder: Path, work: Path, count: int, cores: int, exercises: list[str]) -> tuple[float, float, float]:
    """(wall seconds of the N shard processes run at once, of the merge, CPU seconds of all)."""
    cpu, started = cpu_of_children(), time.perf_counter()
    outs = [work / f"shard-{count}-{index}" for index in range(1, count + 1)]
    processes = [subprocess.Popen(grade_command(folder, out, max(1, cores // count), exercises, f"{index}/{count}"),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for index, out in enumerate(outs, start=1)]
    for process in processes:
        output, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"bench: a shard failed ({process.returncode}):\n{output[-2000:]}")
    grading = time.perf_counter() - started
    merging, _ = timed([sys.executable, "-m", "lossgrade", "merge", *map(str, outs), "--out", str(work / f"merged-{count}")])
    return grading, merging, cpu_of_children() - cpu


def report(work: Path, learners: int, counts: list[int], cores: int, exercises: list[str]) -> None:
    """One run against N shards run at once and merged, for each N in `counts`: times, CPU
    seconds, and whether each merged gradebook equals the single run's."""
    folder = work / f"shards-class-{learners}"
    classgen.generate(folder, learners, seed=0, files=tuple(f for f in FILES if f[:4] in exercises))
    one_wall, one_cpu = timed(grade_command(folder, work / "single", cores, exercises))
    single = (work / "single" / "gradebook.csv").read_bytes()
    print(f"shards on one machine: {learners} learners, {', '.join(exercises)}, {cores} cores")
    print(f"{'processes':>9}  {'grading':>8}  {'merge':>6}  {'total':>7}  {'vs one':>6}  {'CPU':>7}")
    print(f"{1:>9}  {one_wall:7.1f}s  {'-':>6}  {one_wall:6.1f}s  {1:5.2f}x  {one_cpu:6.1f}s", flush=True)
    for count in counts:
        grading, merging, cpu = shards(folder, work, count, cores, exercises)
        same = (work / f"merged-{count}" / "gradebook.csv").read_bytes() == single
        total = grading + merging
        print(f"{count:>9}  {grading:7.1f}s  {merging:5.1f}s  {total:6.1f}s  {one_wall / total:5.2f}x  {cpu:6.1f}s"
              + ("  merged gradebook equals the single run's" if same else "  MERGED GRADEBOOK DIFFERS"), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--shards", default="2,4", help="the numbers of shards to compare, e.g. 2,4,8")
    parser.add_argument("--cores", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--exercise", "-e", action="append", default=None,
                        help="grade only these exercises (default: ex01-ex07 and ex09, as bench/batch_grading.py)")
    args = parser.parse_args()
    exercises = args.exercise or [f[:4] for f in FILES]
    with tempfile.TemporaryDirectory(prefix="lossgrade-shards-") as temp:
        report(Path(temp), args.count, [int(n) for n in args.shards.split(",")], args.cores, exercises)

if __name__ == "__main__":
    main()

"""Where a submission's time goes: one grader, in this process, grading a generated class one
submission after the other, exactly as a `lossgrade grade` grader does (the same sandbox, the
same secret, the same checks, records written), with every stage timed.

    python bench/profile_grading.py [--count 40] [--warm 5] [--cprofile]

Prints, per submission (averaged over the class after `--warm` submissions that fill the
memos): the grader's wall and CPU milliseconds in each stage, the zygote's and the workers'
CPU, the workers forked and the requests sent. Stages overlap nowhere: each is the time
spent inside that function and not inside another stage below it.

`--against CHECKOUT --pairs N` compares this lossgrade with another checkout's (its
`grader/` imported as `lossgrade` through PYTHONPATH), N times, the two running at the same
time (one grader and its worker each: a core each on a 2-core machine), so that the
machine's own drift, which moves a run several percent from one minute to the next here,
slows both alike; it prints the CPU of all three per submission, each pair's ratio, and
their mean.

    python bench/profile_grading.py --first-track --count 40 --warm 4 --against /tmp/base --pairs 4
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classgen
from batch_grading import FILES

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Stages:
    """Wall and CPU time by stage; a stage entered inside another is taken out of the outer."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = collections.defaultdict(float)
        self.cpu: dict[str, float] = collections.defaultdict(float)
        self.count: dict[str, int] = collections.defaultdict(int)
        self.stack: list[list[float]] = []  # [wall started, cpu started, wall of inner, cpu of inner]

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            self.stack.append([time.perf_counter(), time.process_time(), 0.0, 0.0])
            try:
                return original(*args, **kwargs)
            finally:
                wall0, cpu0, inner_wall, inner_cpu = self.stack.pop()
                wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
                self.wall[stage] += wall - inner_wall
                self.cpu[stage] += cpu - inner_cpu
                self.count[stage] += 1
                if self.stack:
                    self.stack[-1][2] += wall
                    self.stack[-1][3] += cpu

        setattr(owner, name, timed)

    def reset(self) -> None:
        self.wall.clear()
        self.cpu.clear()
        self.count.clear()


def proc_cpu(pid: int) -> tuple[float, float]:
    """(own CPU seconds, CPU seconds of its reaped children) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + stime) / CLOCK_TICKS, (cutime + cstime) / CLOCK_TICKS


def children_system_cpu(pid: int) -> float:
    """CPU seconds the kernel spent for a process's reaped children (forks' page copies, exits)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[14]) / CLOCK_TICKS


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--warm", type=int, default=5, help="submissions graded first and not counted")
    parser.add_argument("--cprofile", action="store_true", help="also print the grader's 25 costliest functions")
    parser.add_argument("--one-by-one", action="store_true", help="send each call on its own (no checks/ahead.py)")
    parser.add_argument("--worker-per-exercise", action="store_true",
                        help="a fresh worker for every exercise (no learner.one_learner)")
    parser.add_argument("--first-track", action="store_true", help="ex01-ex07 and ex09 only (issue 19's class)")
    parser.add_argument("--against", type=Path, default=None, help="a checkout to compare with, run at the same time")
    parser.add_argument("--pairs", type=int, default=4, help="with --against: how many pairs of runs")
    args = parser.parse_args()
    if args.against is not None:
        compare(args.against, args.pairs, sys.argv[1:])
        return
    files = tuple(f for f in classgen.FIRST_TRACK if not f.startswith("ex08")) if args.first_track else FILES

    from lossgrade import course, misconceptions
    from lossgrade.grading import discover, pool, records
    from lossgrade.grading import grader as core
    from lossgrade.grading import submission as grading
    from lossgrade.grading.grade import exercises_to_grade
    from lossgrade.checks import framework, secret
    from lossgrade.sandbox import client, connection, learner, scan

    if args.one_by_one:
        core.ahead = lambda check, learner, *rest: learner
    if args.worker_per_exercise:
        grading.one_learner = lambda sandbox: contextlib.nullcontext()
    stages = Stages()
    stages.wrap(scan, "scan", "source scan")
    stages.wrap(client.Sandbox, "spawn", "fork a worker (grader side)")
    stages.wrap(learner.LearnerModule, "load", "load the module (round trip)")
    stages.wrap(connection.Worker, "_exchange", "calls (round trips)")
    stages.wrap(connection.Worker, "kill", "end a worker")
    stages.wrap(framework.CheckContext, "_compute_reference", "reference outputs (memo misses)")
    stages.wrap(framework.CheckContext, "reference_value", "reference memo look-ups")
    stages.wrap(framework.CheckContext, "describe", "describing calls")
    stages.wrap(framework.CheckContext, "fail", "feedback")
    stages.wrap(misconceptions, "diagnose", "diagnosis")
    stages.wrap(misconceptions, "diagnose_gradients", "diagnosis")
    stages.wrap(framework.Checked, "call_many", "reply validation (fit_call)")
    stages.wrap(framework.Checked, "drive", "reply validation (fit_drive)")
    stages.wrap(grading, "quizzes", "quizzes")
    stages.wrap(records, "make", "records (make)")
    stages.wrap(records, "save", "records (write)")
    stages.wrap(core.Grader, "run_checks", "checks' own arithmetic and the rest")

    with tempfile.TemporaryDirectory(prefix="lossgrade-profile-") as scratch:
        work = Path(scratch)
        classgen.generate(work / "class", args.count + args.warm, seed=1, files=files)
        exercises, _ = exercises_to_grade([f[:4] for f in files])
        found = discover.discover(work / "class")
        key = secret.load_or_create_secret(work / secret.SECRET_FILE)
        secret.use_secret(key)
        pool.prepare(exercises)
        course.use(course.current())  # as a grader process does (pool._serve): the course read once
        state = pool._Grading(exercises, pool.SandboxPlan(hidden=(work,), secret=key))
        own = state.sandbox.own_processes() or {state.sandbox.pid}
        zygote = next((pid for pid in own if parent_of(pid) in own), max(own))  # below the namespace's maker
        fingerprint = "profile"
        out = work / "results"
        profiler = cProfile.Profile() if args.cprofile else None
        by_exercise: dict[str, list[float]] = collections.defaultdict(lambda: [0.0] * 5)
        grade_exercise = core.Grader.grade

        def per_exercise(grader: Any, exercise: Any, *rest: Any, **kwargs: Any) -> Any:
            wall0, cpu0, (own0, children0) = time.perf_counter(), time.process_time(), proc_cpu(zygote)
            calls0 = stages.count["calls (round trips)"]
            try:
                return grade_exercise(grader, exercise, *rest, **kwargs)
            finally:
                own, children = proc_cpu(zygote)
                row = by_exercise[exercise.id]
                for i, value in enumerate((time.perf_counter() - wall0, time.process_time() - cpu0, own - own0,
                                           children - children0, stages.count["calls (round trips)"] - calls0)):
                    row[i] += value

        core.Grader.grade = per_exercise  # type: ignore[method-assign]
        counted = 0
        for index, submission in enumerate(found.submissions):
            if index == args.warm:
                stages.reset()
                by_exercise.clear()
                zygote_own0, workers0 = proc_cpu(zygote)
                workers_system0 = children_system_cpu(zygote)
                wall0, cpu0 = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.enable()
            result, *_ = state.grade(submission)
            records.save(out, records.make(submission, fingerprint, result))
            counted += index >= args.warm
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        zygote_own, workers = proc_cpu(zygote)
        workers_system = children_system_cpu(zygote)
        if profiler:
            profiler.disable()
        state.sandbox.close()

    n = counted
    ways = [way for way, on in (("calls one by one", args.one_by_one), ("a worker per exercise", args.worker_per_exercise))
            if on]
    print(f"{n} submissions ({', '.join(e.id for e in exercises)}), after {args.warm} to warm up"
          f"{''.join('; ' + way for way in ways)}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'stage':42} {'wall ms':>8} {'CPU ms':>8} {'calls':>7}   (per submission)")
    for stage in sorted(stages.wall, key=lambda s: -stages.wall[s]):
        print(f"{stage:42} {stages.wall[stage] * 1000 / n:8.1f} {stages.cpu[stage] * 1000 / n:8.1f} "
              f"{stages.count[stage] / n:7.1f}")
    other_wall = wall - sum(stages.wall.values())
    other_cpu = cpu - sum(stages.cpu.values())
    print(f"{'(outside every stage)':42} {other_wall * 1000 / n:8.1f} {other_cpu * 1000 / n:8.1f}")
    print(f"{'grader total':42} {wall * 1000 / n:8.1f} {cpu * 1000 / n:8.1f}")
    print(f"{'zygote CPU (forks, reaping, cleanup)':42} {'':8} {(zygote_own - zygote_own0) * 1000 / n:8.1f}")
    print(f"{'workers CPU (jail, import, calls, exit)':42} {'':8} {(workers - workers0) * 1000 / n:8.1f}")
    print(f"{'  of which in the kernel':42} {'':8} {(workers_system - workers_system0) * 1000 / n:8.1f}")
    total = cpu + zygote_own - zygote_own0 + workers - workers0
    print(f"{'CPU of all three':42} {'':8} {total * 1000 / n:8.1f}")
    print(f"rusage of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw} voluntary switches")
    print(f"{'exercise':10} {'wall ms':>8} {'grader CPU':>10} {'zygote CPU':>10} {'workers CPU':>11} {'round trips':>11}")
    for exercise, row in by_exercise.items():
        wall_ms, grader_ms, zygote_ms, workers_ms = (value * 1000 / n for value in row[:4])
        print(f"{exercise:10} {wall_ms:8.1f} {grader_ms:10.1f} {zygote_ms:10.1f} {workers_ms:11.1f} {row[4] / n:11.1f}")
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(int(os.environ.get("PROFILE_ROWS", "25")))


TOTAL = "CPU of all three"


def compare(against: Path, pairs: int, argv: list[str]) -> None:
    """This lossgrade and `against`'s, profiled at the same time, `pairs` times (see the
    module's docstring); each run's own arguments are `argv` without --against and --pairs."""
    forwarded, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--against", "--pairs"):
            skip = True
        elif not arg.startswith(("--against=", "--pairs=")):
            forwarded.append(arg)
    command = [sys.executable, str(Path(__file__).resolve()), *forwarded]
    ratios = []
    with tempfile.TemporaryDirectory(prefix="lossgrade-against-") as shim:
        (Path(shim) / "lossgrade").symlink_to(against.resolve() / "grader")
        other = {**os.environ, "PYTHONPATH": shim + os.pathsep + os.environ.get("PYTHONPATH", "")}
        for pair in range(pairs):
            first_this = pair % 2 == 0  # which one starts first, alternately
            runs = {}
            for name, env in (("this", None), ("against", other)) if first_this else (("against", other), ("this", None)):
                runs[name] = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            totals = {}
            for name, process in runs.items():
                output, _ = process.communicate()
                line = next((row for row in output.splitlines() if row.startswith(TOTAL)), None)
                if process.returncode or line is None:
                    raise SystemExit(f"the {name} run failed:\n{output[-2000:]}")
                totals[name] = float(line.split()[-1])
            ratios.append(totals["this"] / totals["against"])
            print(f"pair {pair + 1}: this {totals['this']:.1f}, against {totals['against']:.1f} CPU ms per submission; "
                  f"ratio {ratios[-1]:.3f}", flush=True)
    print(f"mean ratio (this / against) over {pairs} pairs: {sum(ratios) / len(ratios):.3f}")


if __name__ == "__main__":
    main()

"""What the sandbox costs: the same checks on the same reference solution, graded through
sandboxed workers and in this very process, in one run.

    python bench/sandbox_overhead.py [--repeat 20] [--strong] [ex01 ex03 ...]

Per check: the median time of each way and the difference; per submission (one exercise's
whole grading: fork a worker, load the module, every check, kill the worker): the same, and
the ratio. Runs alternate between the two ways, so that a machine that gets busier halfway
through slows both alike. The zygote's start (it imports torch) is paid once per grader
process and is printed apart.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections import defaultdict

from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.core.results import ExerciseResult
from lossgrade.sandbox.client import Sandbox
from lossgrade.sandbox.inprocess import InProcessLearner
from lossgrade.grading.service import open_sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", default=["ex01", "ex03"])
    parser.add_argument("--repeat", type=int, default=20, help="gradings of each kind per exercise")
    parser.add_argument("--strong", action="store_true", help="measure the strong (bubblewrap) mode")
    options = parser.parse_args()
    chosen = [catalog.resolve(e) for e in options.exercises]
    missing = [e.id for e in chosen if importlib.util.find_spec(f"lossgrade.checks.{e.module}") is None]
    chosen = [e for e in chosen if e.id not in missing]
    if missing:
        print(f"skipped (no checks yet): {', '.join(missing)}")
    started = time.perf_counter()
    with open_sandbox(chosen, strong=options.strong) as sandbox:
        sandbox.wait_ready()
        print(f"zygote ready in {1000 * (time.perf_counter() - started):.0f} ms "
              f"({'strong' if options.strong else 'default'} mode), once per grader process\n")
        for exercise in chosen:
            report(exercise, *measure(sandbox, exercise, options.repeat))


def measure(sandbox: Sandbox, exercise: catalog.Exercise, repeat: int) -> tuple[list[ExerciseResult], list[ExerciseResult]]:
    # Every exercise's solution, as a learner's folder holds them all: ex05's imports ex03's.
    files = {other.file: other.solution_path.read_text(encoding="utf-8") for other in catalog.exercises()}
    learner = InProcessLearner(runner.reference(exercise), exercise.functions)
    sandboxed, inprocess = [], []
    for round_ in range(repeat + 1):  # the first round warms both up and is not counted
        started = time.perf_counter()
        boxed = runner.grade_exercise(sandbox, exercise, files)
        boxed.duration = time.perf_counter() - started
        started = time.perf_counter()
        local = runner.run_checks(exercise, learner)
        local.duration = time.perf_counter() - started
        if boxed.score != local.score:
            sys.exit(f"{exercise.id}: the sandbox gave {boxed.score}, in-process {local.score}: not the same checks")
        if round_:
            sandboxed.append(boxed)
            inprocess.append(local)
    return sandboxed, inprocess


def report(exercise: catalog.Exercise, sandboxed: list[ExerciseResult], inprocess: list[ExerciseResult]) -> None:
    boxed_checks, local_checks = _check_times(sandboxed), _check_times(inprocess)
    width = max(len(check) for check in boxed_checks)
    print(f"{exercise.id} ({len(sandboxed)} gradings each way, median ms)")
    print(f"  {'check':<{width}} {'sandbox':>8} {'in-proc':>8} {'overhead':>9}")
    for check, times in boxed_checks.items():
        boxed, local = statistics.median(times), statistics.median(local_checks[check])
        print(f"  {check:<{width}} {boxed:8.1f} {local:8.1f} {boxed - local:+9.1f}")
    boxed = statistics.median(1000 * r.duration for r in sandboxed)
    local = statistics.median(1000 * r.duration for r in inprocess)
    counted = len(boxed_checks)
    print(f"  per check, with the worker's fork, load and kill shared out: {(boxed - local) / counted:+.1f} ms "
          f"({counted} checks)")
    print(f"  per submission: sandbox {boxed:.1f} ms, in-process {local:.1f} ms, "
          f"overhead {boxed - local:+.1f} ms, ratio {boxed / local:.2f}x\n")


def _check_times(results: list[ExerciseResult]) -> dict[str, list[float]]:
    """Milliseconds per check id, over all the gradings (skipped checks left out)."""
    times: dict[str, list[float]] = defaultdict(list)
    for result in results:
        for check in result.checks:
            if check.outcome.value != "skipped":
                times[check.id].append(1000 * check.duration)
    return times


if __name__ == "__main__":
    main()

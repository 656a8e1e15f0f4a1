"""How long every check of all nine reference solutions takes, through the real sandbox.

Target (issue "The rest of the curriculum"): under 60 s on this 2-core machine. Prints the
time per exercise and the total, with the sandbox's start-up shown apart.

    python bench/reference_suite.py
"""
from __future__ import annotations

import time

from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.core.results import Outcome
from lossgrade.grading.service import open_sandbox


def main() -> None:
    started = time.perf_counter()
    with open_sandbox() as sandbox:
        sandbox.wait_ready()
        ready = time.perf_counter() - started
        print(f"sandbox ready in {ready:.2f} s")
        total_checks = 0
        for exercise in catalog.exercises():
            t0 = time.perf_counter()
            result = runner.grade_exercise(sandbox, exercise, runner.learner_files(exercise.solution_path.parent, exercise))
            counted = [c for c in result.checks if c.outcome is not Outcome.SKIPPED]
            total_checks += len(counted)
            print(f"  {exercise.id}  {len(counted):>3} checks  {time.perf_counter() - t0:6.2f} s  {result.status.value}")
    total = time.perf_counter() - started
    print(f"all {len(catalog.exercises())} reference solutions, {total_checks} checks: {total:.1f} s "
          f"(target < 60 s): {'met' if total < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()

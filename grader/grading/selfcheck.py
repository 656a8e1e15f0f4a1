"""The course self-check (rustlings' `dev check`): a course is only as good as its checks.

For every exercise of a course folder (or of the built-in course): the stub fails every
check as "not started", the reference solution passes every check on every device, every
catalogued misconception that carries a wrong implementation fails at least one check and
is named by the diagnosis; every quiz validates with its code answers right; and every
claim of the course's prose (quizzes' `claims:`, `exercises/*.claims.yaml`) is proved by
running its code. Each problem names the file (and line, where there is one) and what to fix.
"""
from __future__ import annotations

import contextlib
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lossgrade.course import catalog
from lossgrade import course, misconceptions
from lossgrade.grading.files import Files
from lossgrade.grading.grader import Grader
from lossgrade.core.errors import LossgradeError
from lossgrade.core.results import ExerciseResult, Outcome
from lossgrade.sandbox.client import Sandbox
from lossgrade.sandbox.inprocess import InProcessLearner
from lossgrade.sandbox.learner import driver_name


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    exercises: int = 0
    caught: int = 0  # catalogued wrong implementations failed and named
    catalogued: int = 0  # catalogued wrong implementations replayed
    by_simulation: int = 0  # mistakes diagnosed by simulating them inside a check
    claims: int = 0  # claims of the prose checked by running their code

    def summary(self) -> str:
        return (f"{self.exercises} exercise(s) checked; misconceptions caught and named: "
                f"{self.caught}/{self.catalogued}"
                + (f" (+{self.by_simulation} diagnosed by simulation inside their checks)" if self.by_simulation else "")
                + f"; {len(self.problems)} problem(s)"
                + f"; {self.claims} claim(s) checked by running torch")


def grade_mistake(exercise: catalog.Exercise, function: str, wrong: object, grader: Grader | None = None) -> ExerciseResult:
    """Grade the reference with one function replaced by a wrong implementation of ours,
    in this process (it is our code, never a learner's)."""
    grader = grader or Grader(course.current())
    module = types.ModuleType(f"selfcheck_{exercise.module}")
    module.__dict__.update(vars(grader.reference(exercise)))
    module.__dict__[function] = wrong
    return grader.run_checks(exercise, InProcessLearner(module, exercise.functions, in_process_drivers(grader.course, exercise)))


def in_process_drivers(within: course.Course, exercise: catalog.Exercise) -> dict[str, Callable[..., Any]]:
    """The exercise's drivers (its course folder's drivers/<module>.py), by the names a
    worker gives them, for grading our own code in this process."""
    if within.drivers_path(exercise) is None:
        return {}
    return {driver_name(exercise.module, name): fn for name, fn in within.drivers(exercise.module).items()}


def _where(exc: BaseException, path: Path | None) -> str:
    """`file:line` of the deepest frame of `exc` inside `path` (or the deepest at all)."""
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if path and Path(f.filename) == path] or frames
    return f"{inside[-1].filename}:{inside[-1].lineno}" if inside else str(path)


def check_exercise(sandbox: Sandbox, exercise: catalog.Exercise, report: Report, within: course.Course | None = None) -> None:
    """Prove one exercise's checks on its stub, its reference solution and its catalogued
    mistakes, with the same `Grader` every front-end grades with."""
    grader = Grader(within or course.current(), sandbox)
    where = exercise.root / "exercises" / "info.yaml"
    for label, path in (("stub", exercise.stub_path), ("reference solution", exercise.solution_path)):
        if not path.is_file():
            report.problems.append(f"{where}: {exercise.id}'s {label} {path} is missing")
    if report.problems and any(exercise.id in p for p in report.problems):
        return
    try:
        grader.checks(exercise)
        grader.reference(exercise)
        if grader.course.drivers_path(exercise) is not None:
            grader.course.drivers(exercise.module)
    except LossgradeError as exc:  # already names the file and line
        report.problems.append(exc.message)
        return
    except Exception as exc:  # noqa: BLE001 - any error in the course's own files
        report.problems.append(f"{_where(exc, exercise.checks_path)}: {exercise.id} cannot load its checks or "
                               f"reference: {type(exc).__name__}: {exc}")
        return
    report.exercises += 1
    stub = grader.grade(exercise, Files.in_folder(exercise.stub_path.parent, exercise))
    for check in stub.checks:
        if check.outcome not in (Outcome.NOT_STARTED, Outcome.SKIPPED):
            message = check.feedback.message if check.feedback else ""
            report.problems.append(f"{exercise.stub_path}: the untouched stub should fail {check.id} as "
                                   f"'not started', but it is {check.outcome.value}. {message}".strip())
    solution = grader.grade(exercise, Files.in_folder(exercise.solution_path.parent, exercise))
    for check in solution.checks:
        if check.outcome not in (Outcome.PASSED, Outcome.SKIPPED):
            message = check.feedback.message if check.feedback else ""
            report.problems.append(f"{exercise.solution_path}: the reference solution fails {check.id}: {message}")
    report.problems.extend(_missing_quizzes(exercise, where))
    for mistake in misconceptions.catalogue(exercise.module):
        if mistake.wrong is None:
            report.by_simulation += 1
            continue
        report.catalogued += 1
        result = grade_mistake(exercise, mistake.function, mistake.wrong, grader)
        failed = [c for c in result.checks if c.outcome is Outcome.FAILED]
        if failed and any(c.misconception and c.misconception.id == mistake.id for c in failed):
            report.caught += 1
        else:
            why = "passes every check" if not failed else "fails, but no failing check names it"
            report.problems.append(f"{exercise.module}: misconception {mistake.id} {why}: add a check input on "
                                   "which it differs from the reference")


def _missing_quizzes(exercise: catalog.Exercise, where: Path) -> list[str]:
    """The exercise's quiz and its mistakes' "quiz#question" that name nothing in the
    course (a learner would be sent to a quiz that is not there)."""
    from lossgrade.quiz import library

    try:
        known = library.question_ids()
    except LossgradeError:  # a quiz that does not load: reported with its line already
        return []
    problems = []
    if exercise.quiz is not None and exercise.quiz not in known:
        problems.append(f"{where}: {exercise.id}'s quiz {exercise.quiz!r} is not a quiz of the course"
                        f"{library.suggestion(exercise.quiz, list(known))}")
    for mistake in misconceptions.catalogue(exercise.module):
        quiz_id, _, question = (mistake.quiz or "").partition("#")
        if mistake.quiz and question not in known.get(quiz_id, []):
            problems.append(f"{exercise.module}: misconception {mistake.id} names {mistake.quiz!r}, "
                            "which is no question of the course's quizzes")
    return problems


def run(root: Path | None = None, within: course.Course | None = None) -> Report:
    """Self-check the exercises and quizzes that come from `root` (default: the built-in
    course) in the course `within` (default: the built-in course with `root` over it),
    the built-in folder and an instructor's the same way."""
    from lossgrade.quiz import claims
    from lossgrade.quiz.validate import validate_counting
    from lossgrade.grading.service import open_sandbox

    report = Report()
    root = (root or course.course_root()).resolve()
    try:
        within = within or course.Course.load(*([root] if root != course.course_root().resolve() else []))
    except course.CourseError as exc:
        report.problems.extend(exc.problems)
        within = None
    quiz_paths = sorted((root / "quizzes").glob("*.yaml"))
    exercises = list(within.from_folder(root)) if within else []
    with course.using(within) if within else contextlib.nullcontext():
        if quiz_paths:
            quiz_problems, report.claims = validate_counting(quiz_paths)
            report.problems.extend(str(problem) for problem in quiz_problems)
        if exercises:
            with open_sandbox(exercises, within=within) as sandbox:
                for exercise in exercises:
                    check_exercise(sandbox, exercise, report, within)
        # After the exercises: check_exercise skips an exercise whose id a problem already names.
        claim_problems, stated = claims.check_course(root, builtin=root == course.course_root().resolve())
        report.problems.extend(str(problem) for problem in claim_problems)
        report.claims += stated
    return report

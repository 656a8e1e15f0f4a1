"""The Python API, for learners in Jupyter and Colab (and any Python program):

    import lossgrade
    lossgrade.check("ex03", log_softmax=my_log_softmax, cross_entropy=my_cross_entropy)
    lossgrade.check("ex03", path="my_ex03.py")
    lossgrade.hint("ex03")
    lossgrade.quiz("logits")                                  # the questions
    lossgrade.quiz("logits", answers={"softmax-before-ce": 0.80, ...})

Functions reach the sandbox as source (see `notebook_source`): the learner's code never
runs in this process on the grader's behalf, and the verdict comes from the same runner and
checks as `lossgrade check`, so the two agree on the same code. Every mistake in what is
passed (an unknown exercise, a lambda, a function that uses a tensor from the notebook, a
wrong signature) comes back as a result that says what to fix, never as a traceback.

One sandbox serves the whole process: started by the first check, reused by the next ones
(so a re-check in a notebook costs a fork, not a torch import) and closed at exit.
"""
from __future__ import annotations

import ast
import atexit
import contextlib
import difflib
import os
import sys
import threading
from pathlib import Path
from typing import Any

from lossgrade.course import catalog, hints
from lossgrade import course
from lossgrade.core import notebook_objects
from lossgrade.grading import notebook_source
from lossgrade.grading.files import Files
from lossgrade.checks import secret
from lossgrade.core.errors import LossgradeError
from lossgrade.output.notebook import ExerciseReport, HintReport, QuizReport, QuizSheet
from lossgrade.core.results import ExerciseResult, QuizResult, Status
from lossgrade.core.errors import SandboxError
from lossgrade.sandbox.client import Limits, Sandbox
from lossgrade.course.workspace import Workspace

_lock = threading.RLock()
_sandbox: Sandbox | None = None
_sandbox_pid = 0
_sandbox_course: course.Course | None = None  # the course whose rules the shared sandbox enforces
_hints_shown: dict[str, int] = {}  # hints shown without a workspace, for this process


def check(exercise: str, /, path: str | os.PathLike[str] | None = None, *, timeout: float | None = None,
          **functions: Any) -> ExerciseReport:
    """Run the checks of `exercise` on your functions, or on the file at `path`.

    Name each function as the exercise does: `check("ex01", mse_loss=my_mse)`. A function
    of the exercise that you do not pass is taken from your notebook when it defines one by
    that name; otherwise its checks count as not started. `timeout` is the seconds one call
    of your function may take (default 10).
    """
    caller = sys._getframe(1).f_globals
    try:
        chosen = catalog.resolve(str(exercise))
    except course.CourseError as exc:
        return _problem(str(exercise), "The course folder does not load", exc.message)
    except LossgradeError as exc:
        return _problem(str(exercise), "Unknown exercise", exc.message)
    prepared = _prepare(chosen, path, functions, caller)
    if isinstance(prepared, ExerciseReport):
        return prepared
    files, given, notes = prepared
    try:
        sandbox = _shared_sandbox()  # its torch import overlaps with ours, just below
    except (SandboxError, OSError) as exc:
        return _problem(chosen, _broken(exc))
    from lossgrade.grading.grader import Grader

    in_force = course.current()
    problems = _shape_problems(chosen, given, Grader(in_force).reference(chosen))
    if problems:
        return _problem(chosen, *problems)
    if not has_checks(chosen):
        where = "This version of lossgrade" if chosen.root == course.course_root() else f"The course in {chosen.root}"
        return _problem(chosen, f"{where} has no checks for {chosen.id} yet, so it cannot grade it.")
    limits = Limits(call_seconds=timeout) if timeout is not None else None
    key = _workspace_secret(path)
    with _lock, secret.chosen(key) if key else contextlib.nullcontext():
        try:
            result = Grader(in_force, sandbox).grade(chosen, files, limits)
        except (SandboxError, OSError):  # the sandbox itself died (not the learner's code): once more
            close()
            try:
                result = Grader(in_force, _shared_sandbox()).grade(chosen, files, limits)
            except (SandboxError, OSError) as exc:
                close()
                return _problem(chosen, _broken(exc))
        except KeyboardInterrupt:  # stopped mid-exchange: the zygote's replies may be out of step
            close()
            raise
    return ExerciseReport(result, notes)


def _workspace_secret(path: str | os.PathLike[str] | None) -> bytes | None:
    """The grading secret of the workspace the code belongs to (the file's folder, else the
    current one), so that check() and `lossgrade check` draw the same inputs; None outside
    a workspace (this process's own secret serves)."""
    from lossgrade.course.workspace import STATE_DIR

    try:
        root = Workspace.find(Path(path).resolve().parent if path is not None else None).root
        if not (root / STATE_DIR).is_dir():
            return None
        return secret.load_or_create_secret(root / STATE_DIR / secret.SECRET_FILE)
    except (LossgradeError, OSError):
        return None


def _prepare(chosen: catalog.Exercise, path: str | os.PathLike[str] | None, functions: dict[str, Any],
             caller: dict[str, Any]) -> tuple[Files, dict[str, Any], list[str]] | ExerciseReport:
    """The files to grade, the functions they came from, and notes to show beside the result;
    or a report of what is wrong with what was passed."""
    if path is not None and functions:
        return _problem(chosen, f"Pass either path= or your functions, not both: lossgrade.check(\"{chosen.id}\", "
                                f"path=\"{chosen.file}\") or lossgrade.check(\"{chosen.id}\", {_example(chosen)}).")
    if path is not None:
        files = _files_at(chosen, Path(path))
        return _problem(chosen, files) if isinstance(files, str) else (files, {}, [])
    unknown = [name for name in functions if name not in chosen.functions]
    if unknown:
        nearest = difflib.get_close_matches(unknown[0], chosen.functions, n=1, cutoff=0.4)
        mean = f" (did you mean {nearest[0]}?)" if nearest else ""
        return _problem(chosen, f"{chosen.id} has no function named {unknown[0]}{mean}; its functions are "
                                f"{', '.join(chosen.functions)}: lossgrade.check(\"{chosen.id}\", {_example(chosen)}).")
    found = {name: caller[name] for name in chosen.functions
             if name not in functions and _written_by_learner(caller.get(name))}
    given = {name: functions.get(name, found.get(name)) for name in chosen.functions if name in functions or name in found}
    if not given:
        return _problem(chosen, f"Nothing to check: pass your functions, as lossgrade.check(\"{chosen.id}\", "
                                f"{_example(chosen)}), or your file, as path=\"{chosen.file}\".")
    module = notebook_source.build(given, chosen.functions, chosen.id, _class_names(chosen))
    if module.problems:
        return _problem(chosen, *module.problems)
    notes = [f"`{name}` was not passed and your notebook defines no function `{name}`, so its checks count "
             f"as not started: pass it too, as lossgrade.check(\"{chosen.id}\", ..., {name}=your_{name})."
             for name in module.missing]
    return Files.of_source(chosen, module.text, "the notebook's functions"), given, notes


def _broken(exc: BaseException) -> str:
    return (f"The grader's sandbox failed ({type(exc).__name__}: {exc}); this is a problem with lossgrade or "
            "this machine, not with your code.")


def hint(exercise: str, all: bool = False) -> HintReport:
    """The next hint for `exercise`, gentle first; `all=True` shows every hint so far again.
    Hints shown are counted in your workspace when there is one, as `lossgrade hint` does."""
    try:
        chosen = catalog.resolve(str(exercise))
        revealed = hints.next_hints(chosen, all, _workspace(), memory=_hints_shown)
    except LossgradeError as exc:
        return HintReport(str(exercise), error=exc.message)
    return HintReport(chosen.id, chosen.title, revealed)


def quiz(quiz_id: str, answers: dict[str, Any] | None = None) -> QuizSheet | QuizReport:
    """The questions of a myth-buster quiz; with `answers` (question id -> answer), your
    score and the myths you missed. The score is kept in your workspace, if you have one."""
    from lossgrade.quiz import grading, library, model, progress

    try:
        chosen = library.get(str(quiz_id))
    except LossgradeError as exc:
        return QuizReport(QuizResult(str(quiz_id), str(quiz_id), 0.0, 0.0, error=exc.message))
    if answers is None:
        return QuizSheet(chosen)
    parsed: dict[str, model.Answer] = {}
    for question_id, raw in dict(answers).items():
        question = chosen.question(str(question_id))
        if question is None:
            hint_text = library.suggestion(str(question_id), [q.id for q in chosen.questions])
            error = f"quiz {chosen.id} has no question {question_id!r}{hint_text}"
        else:
            try:
                parsed[question.id] = model.parse_answer(question, _answer_text(raw))
                continue
            except ValueError as exc:
                error = f"{chosen.id}#{question.id} is a {question.kind.value} question: {exc}"
        return QuizReport(QuizResult(chosen.id, chosen.title, 0.0, float(len(chosen.questions)), error=error))
    result = grading.grade(chosen, parsed)
    workspace = _workspace()
    if workspace is not None:
        progress.finish(workspace, chosen, result)
    return QuizReport(result)


def close() -> None:
    """Stop the shared sandbox (the next check starts a fresh one); also runs at exit."""
    global _sandbox
    with _lock:
        if _sandbox is not None and _sandbox_pid == os.getpid():
            _sandbox.close()
        _sandbox = None


# --- helpers -------------------------------------------------------------------------------
def has_checks(exercise: catalog.Exercise) -> bool:
    """Whether the course in force can grade the exercise: a checks file of it in its course
    folder (the same lookup by path, built-in or not, that `lossgrade check` grades by)."""
    return course.current().has_checks(exercise)


def _shared_sandbox() -> Sandbox:
    global _sandbox, _sandbox_pid, _sandbox_course
    with _lock:
        if _sandbox is not None and _sandbox_pid != os.getpid():
            _sandbox = None  # a forked child: the zygote belongs to the parent
        in_force = course.current()
        if _sandbox is not None and _sandbox_course != in_force:
            close()  # another course: other calls to forbid, other solutions to hide
        if _sandbox is None:
            from lossgrade.grading import service

            _sandbox, _sandbox_pid, _sandbox_course = service.open_sandbox(within=in_force), os.getpid(), in_force
        return _sandbox


atexit.register(close)


def _problem(exercise: catalog.Exercise | str, *messages: str) -> ExerciseReport:
    """A result that grades nothing and says why."""
    if isinstance(exercise, str):
        result = ExerciseResult(exercise, messages[0], Status.ERROR, 0.0, 0.0, error=" ".join(messages[1:]))
    else:
        result = ExerciseResult(exercise.id, exercise.title, Status.ERROR, 0.0, exercise.points, error=" ".join(messages))
    return ExerciseReport(result)


def _example(exercise: catalog.Exercise) -> str:
    return ", ".join(f"{name}={name}" for name in exercise.functions)


def _written_by_learner(value: Any) -> bool:
    """A function or class of the notebook's own (not torch's mse_loss imported to compare)."""
    return value is not None and callable(value) and not notebook_objects.is_lambda(value) and notebook_objects.is_local(value)


def _files_at(exercise: catalog.Exercise, path: Path) -> Files | str:
    """The learner's file, graded as the exercise's file, with the earlier exercise files it
    may import from the same folder; or why it cannot be read."""
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        return f"{path} {what} (looked in {path.resolve().parent}); pass the path of your {exercise.file}."
    try:
        return Files.at(path, exercise)
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror}); pass the path of your {exercise.file}."


def _shape_problems(exercise: catalog.Exercise, given: dict[str, Any], reference: Any) -> list[str]:
    """A function passed where the exercise wants a class (or the reverse), or a signature
    the checks cannot call."""
    problems = []
    for name, value in given.items():
        wanted = getattr(reference, name, None)
        if isinstance(wanted, type) != isinstance(value, type):
            kind = "a class" if isinstance(wanted, type) else "a function"
            problems.append(f"`{name}` should be {kind} ({exercise.file} defines it with "
                            f"`{'class' if isinstance(wanted, type) else 'def'} {name}`).")
        elif wanted is not None and not isinstance(wanted, type):
            problem = notebook_objects.signature_problem(name, value, wanted)
            if problem:
                problems.append(problem)
    return problems


def _class_names(exercise: catalog.Exercise) -> frozenset[str]:
    """The exercise's names that its stub defines as classes (read, not imported)."""
    try:
        tree = ast.parse(exercise.stub_path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return frozenset()
    return frozenset(node.name for node in tree.body if isinstance(node, ast.ClassDef))


def _workspace() -> Workspace | None:
    try:
        return Workspace.find()
    except LossgradeError:
        return None


def _answer_text(raw: Any) -> Any:
    """A Python answer (True, 2.3, ["a", "c"]) in the notation the quiz parser reads."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (int, float)):
        return repr(raw)
    if isinstance(raw, (list, tuple)):
        return [str(item) for item in raw]
    return raw

"""Take a quiz in the terminal: one question at a time, the reality right after each answer.

Choices appear in a seeded shuffled order, so a learner cannot learn "it is always b"; the
seed is saved with the progress, so a resumed run shows the same order. Progress is saved
after every answer; Ctrl-C (or the end of input) stops with exit code 130 and a rerun offers
to resume.
"""
from __future__ import annotations

import random
import textwrap

import click

from lossgrade.core.exitcodes import ExitCode

from lossgrade.quiz import library, progress
from lossgrade.quiz.grading import grade
from lossgrade.quiz.model import Answer, Kind, Question, Quiz, describe, is_correct, parse_answer
from lossgrade.quiz.progress import Progress
from lossgrade.output.quiz_report import echo, mark, render, score_line, shown, wrap
from lossgrade.core.results import QuizResult
from lossgrade.course.workspace import Workspace

INTERRUPTED = ExitCode.INTERRUPTED

_PROMPTS = {
    Kind.SINGLE: "Your answer (one number)",
    Kind.MULTIPLE: "Your answers (every right number, e.g. 1,3)",
    Kind.TRUE_FALSE: "True or false? [t/f]",
    Kind.NUMERIC: "Your answer (a number)",
    Kind.OUTPUT: "What does it print?",
}


def choice_order(quiz: Quiz, question: Question, seed: int) -> list[str]:
    """The question's choice keys in the order shown for `seed` (stable across runs)."""
    keys = list(question.choices)
    random.Random(f"{seed}:{quiz.id}:{question.id}").shuffle(keys)
    return keys


def _code(code: str) -> str:
    return textwrap.indent(code, "    ")


def _show(question: Question, number: int, total: int, order: list[str]) -> None:
    echo()
    echo(click.style(f"Question {number} of {total}", bold=True) + f"  [{question.id}]")
    echo(wrap(question.prompt))
    if question.kind is Kind.OUTPUT:
        echo(_code(question.code or ""))
    for position, key in enumerate(order, start=1):
        echo(f"  {position}) {question.choices[key]}")


def _typed(question: Question, order: list[str], raw: str) -> Answer:
    """The answer that `raw` (what the learner typed) gives; ValueError says what to type."""
    if not order:
        return parse_answer(question, raw)
    picked = raw.replace(",", " ").split()
    several = question.kind is Kind.MULTIPLE
    if not picked or (len(picked) > 1 and not several) or not all(p.isdigit() and 1 <= int(p) <= len(order) for p in picked):
        extra = ", or several separated by commas" if several else ""
        raise ValueError(f"answer with a number from 1 to {len(order)}{extra}")
    keys = [order[int(p) - 1] for p in picked]
    return parse_answer(question, keys if several else keys[0])


def _ask(question: Question, order: list[str]) -> Answer:
    while True:
        suffix = " " if question.kind is Kind.OUTPUT else ": "
        raw = click.prompt(_PROMPTS[question.kind], default="", show_default=False, prompt_suffix=suffix)
        try:
            return _typed(question, order, raw)
        except ValueError as exc:
            echo(f"Please {exc}." if order else f"Please try again: {exc}.", err=True)


def _feedback(question: Question, answer: Answer) -> None:
    if is_correct(question, answer):
        echo(f"{mark(True)} Right.")
    else:
        within = f" (within {question.tolerance:g})" if question.kind is Kind.NUMERIC else ""
        echo(f"{mark(False)} Not quite: the answer is {shown(describe(question, question.answer))}{within}.")
    for label, text in (("Myth:", question.myth), ("Reality:", question.reality), ("Why it matters:", question.why)):
        echo(wrap(f"{label} {text}").replace(label, click.style(label, bold=True), 1))
    if question.code and question.kind is not Kind.OUTPUT:
        echo("See for yourself:")
        echo(_code(question.code))


def _start(quiz: Quiz, workspace: Workspace, seed: int | None) -> Progress:
    """Resume the saved run if there is one and the learner wants it, else start afresh."""
    saved = progress.load(workspace, quiz)
    if saved:
        done = f"{len(saved.answers)} of {len(quiz.questions)}"
        if click.confirm(f"You answered {done} questions of {quiz.id} last time. Resume?", default=True):
            return saved
        progress.discard(workspace, quiz)
    return Progress(seed if seed is not None else random.SystemRandom().randrange(1_000_000))


def _ask_all(quiz: Quiz, workspace: Workspace, current: Progress) -> None:
    total = len(quiz.questions)
    for number, question in enumerate(quiz.questions, start=1):
        if question.id in current.answers:
            continue
        order = choice_order(quiz, question, current.seed)
        _show(question, number, total, order)
        current.answers[question.id] = _ask(question, order)
        progress.save(workspace, quiz, current)
        _feedback(question, current.answers[question.id])


def run(quiz: Quiz, workspace: Workspace, seed: int | None = None) -> QuizResult:
    """Take `quiz` interactively; record the score in `workspace` and return the result.

    Ctrl-C or the end of input saves the answers so far and exits with code 130.
    """
    current: Progress | None = None
    try:
        current = _start(quiz, workspace, seed)
        echo(click.style(f"{quiz.id}: {quiz.title}", bold=True) + f" ({len(quiz.questions)} questions)")
        if quiz.description:
            echo(wrap(quiz.description))
        echo("Ctrl-C stops at any time; your answers are kept and a rerun resumes.", err=True)
        _ask_all(quiz, workspace, current)
    except (KeyboardInterrupt, click.Abort):
        if current and current.answers:
            progress.save(workspace, quiz, current)  # again, in case Ctrl-C cut the last save short
            kept = f"{len(current.answers)} of {len(quiz.questions)} answers saved"
            echo(f"\nStopped: {kept}; run `lossgrade quiz {quiz.id}` to resume.", err=True)
        else:
            echo("\nStopped; there were no answers to save.", err=True)
        raise click.exceptions.Exit(INTERRUPTED) from None
    result = grade(quiz, current.answers)
    best = progress.finish(workspace, quiz, result, current.answers)
    answers = progress.write_answers_file(workspace, library.quizzes())
    echo()
    echo(render(result))
    echo(f"Best so far: {score_line(best, result.max_score)} (saved in {workspace.state_path}; "
         f"these answers in {answers.name}, which `lossgrade submit` hands in)", err=True)
    return result

"""The catalogue of real learner mistakes, and the diagnosis that names them.

Each exercise has a module here (named like its exercise file) defining `MISCONCEPTIONS`:
a list of `Mistake`, each with a wrong implementation that reproduces it. When a check
fails, the grader runs every catalogued wrong implementation of that function on the same
inputs (in the trusted process: these are our own code) and names the one whose output
the learner's matches. The diagnosis comes from behaviour, never from reading source.
"""
from __future__ import annotations

import functools
import importlib
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable

import torch

from lossgrade import course, pyfiles, results
from lossgrade.numerics import close


def reduce(values: torch.Tensor, reduction: str) -> torch.Tensor:
    """Apply a loss reduction the way torch does, for wrong implementations to share."""
    return {"mean": values.mean, "sum": values.sum}.get(reduction, lambda: values)()


@dataclass(frozen=True)
class Mistake:
    id: str  # "ex03.softmax-twice"
    function: str  # the learner function it concerns, or "" for driver-level mistakes
    name: str  # one line
    message: str  # what they did, why it is wrong, what to do instead (never the solution)
    quiz: str | None  # "quiz-id#question-id"
    wrong: Callable[..., Any] | None = None  # wrong(*args, **kwargs) -> what the mistake returns

    def as_result(self) -> results.Misconception:
        return results.Misconception(id=self.id, name=self.name, message=self.message, quiz=self.quiz)

    def computes(self, function: str) -> Callable[..., Any] | None:
        """What this mistake computes in place of `function`: its wrong implementation, or,
        for a method such as "CrossEntropyFunction.apply" when the mistake is a wrong
        `CrossEntropyFunction` class, that class's method; None when it does not concern it."""
        if self.wrong is None:
            return None
        if self.function == function:
            return self.wrong
        owner, _, method = function.partition(".")
        return getattr(self.wrong, method, None) if method and self.function == owner else None


def catalogue(module: str) -> tuple[Mistake, ...]:
    """The mistakes catalogued for an exercise module: an instructor's course folder's
    `misconceptions/<module>.py` first, then the built-in ones (empty when none are)."""
    return _catalogue(module, course.current().mistake_files(module))


@functools.lru_cache(maxsize=None)
def _catalogue(module: str, files: tuple[Path, ...]) -> tuple[Mistake, ...]:
    found: list[Mistake] = []
    for path in files:
        found.extend(pyfiles.load(f"lossgrade_course_misconceptions_{module}", path).MISCONCEPTIONS)
    try:
        found.extend(importlib.import_module(f"lossgrade.misconceptions.{module}").MISCONCEPTIONS)
    except ModuleNotFoundError:
        pass
    return tuple(found)


def by_id(module: str, mistake_id: str) -> Mistake:
    for mistake in catalogue(module):
        if mistake.id == mistake_id:
            return mistake
    raise KeyError(mistake_id)


def diagnose(module: str, function: str, got: torch.Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Mistake | None:
    """The catalogued mistake whose output on these inputs equals what the learner returned."""
    for mistake in catalogue(module):
        implementation = mistake.computes(function)
        if implementation is None:
            continue
        try:
            with torch.no_grad():
                wrong = implementation(*args, **kwargs)
        except Exception:  # noqa: BLE001 - a mistake that cannot handle this input is no match
            continue
        if isinstance(wrong, torch.Tensor) and wrong.shape == got.shape and close(got, wrong.to(got.dtype)):
            return mistake
    return None


def diagnose_gradients(module: str, function: str, got: torch.Tensor, grads: list[torch.Tensor | None], args: tuple[Any, ...], kwargs: dict[str, Any], grad_wrt: tuple[int, ...], grad_output: Any = None) -> Mistake | None:
    """The catalogued mistake whose value and gradients (through autograd, for `grad_wrt`)
    on these inputs equal the learner's: mistakes of a hand-written backward."""
    for mistake in catalogue(module):
        implementation = mistake.computes(function)
        if implementation is None:
            continue
        try:
            inputs = list(args)
            for index in grad_wrt:
                inputs[index] = inputs[index].detach().requires_grad_(True)
            with torch.enable_grad():
                wrong = implementation(*inputs, **kwargs)
                weight = torch.ones_like(wrong) if grad_output is None else grad_output.to(wrong.dtype)
                wrong_grads = torch.autograd.grad(wrong, [inputs[i] for i in grad_wrt], weight, allow_unused=True)
        except Exception:  # noqa: BLE001 - a mistake that cannot handle this input is no match
            continue
        if wrong.shape != got.shape or not close(got, wrong.detach().to(got.dtype)):
            continue
        if all(_same(mine, theirs) for mine, theirs in zip(grads, wrong_grads)):
            return mistake
    return None


def _same(got: torch.Tensor | None, wrong: torch.Tensor | None) -> bool:
    if got is None or wrong is None:
        return got is None and wrong is None
    return got.shape == wrong.shape and close(got, wrong.detach().to(got.dtype))

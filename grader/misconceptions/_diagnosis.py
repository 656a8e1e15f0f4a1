"""The catalogue's model and the diagnosis: `Mistake`, the catalogue of an exercise module
(every course folder's misconceptions file, found by path), and `diagnose` /
`diagnose_gradients`, which name the catalogued mistake whose behaviour the learner's output
matches. Package-internal: import these names from `lossgrade.misconceptions`."""
from __future__ import annotations

import functools
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from lossgrade import course
from lossgrade.core import results
from lossgrade.core.memo import Memo
from lossgrade.core.numerics import close, tolerance


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
    # A signature of the error, for a mistake that comes in many variants (an epsilon of any
    # size): matches(evidence) -> bool replaces comparing with `wrong`'s output, which then
    # only serves the self-check. See `Evidence`.
    matches: Callable[[Evidence], bool] | None = None

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
    """The mistakes catalogued for an exercise module: every course folder's
    `misconceptions/<module>.py`, found by path the same way (the built-in course's is
    lossgrade/misconceptions/), the top folder first (empty when none are)."""
    return _catalogue(module, course.current().mistake_files(module))


@functools.lru_cache(maxsize=None)
def _catalogue(module: str, files: tuple[Path, ...]) -> tuple[Mistake, ...]:
    return tuple(mistake for path in files for mistake in course.load_module("misconceptions", path).MISCONCEPTIONS)


def by_id(module: str, mistake_id: str) -> Mistake:
    for mistake in catalogue(module):
        if mistake.id == mistake_id:
            return mistake
    raise KeyError(mistake_id)


@dataclass(frozen=True)
class Evidence:
    """What a failed comparison saw: the learner's value (and gradients), the reference's,
    and the inputs. A mistake's `matches` reads it to recognise the mistake by a signature
    of the error rather than by reproducing its output."""

    got: torch.Tensor
    expected: torch.Tensor | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    grads: tuple[torch.Tensor | None, ...] = ()
    expected_grads: tuple[torch.Tensor | None, ...] = ()


def behaves_like(got: torch.Tensor, wrong: torch.Tensor, expected: torch.Tensor | None = None) -> bool:
    """Whether the learner's `got` shows the same error as a mistake's output `wrong`.

    Robust to the variations learners add to a mistake (an epsilon, a clamp, a different
    order of operations): entries where both are finite must agree to a relative tolerance
    looser than the checks'; where the mistake blows up (nan or inf) and the learner does not,
    the learner must be wrong there too (a clamp or an epsilon hid the blow-up); entries where
    both are nan or inf must be the same kind. With `expected`, the mistake must also
    explain at least one entry where the learner is wrong: agree with it on a finite wrong
    value, or blow up the same way where the answer is finite.
    """
    if not isinstance(wrong, torch.Tensor) or wrong.shape != got.shape or wrong.dtype != got.dtype:
        return False
    if got.numel() == 0:
        return False
    g, w = got.detach().cpu().double(), wrong.detach().cpu().double()
    rtol, atol = _loose(got.dtype)
    both = torch.isfinite(g) & torch.isfinite(w)
    if bool(both.all()):  # the common case: nothing blows up, so only the finite rule applies
        agree = (g - w).abs() <= atol + rtol * torch.maximum(g.abs(), w.abs())
        same_blowup = torch.zeros_like(both)
    else:
        scale = torch.where(both, torch.maximum(g.abs(), w.abs()), torch.zeros_like(g))
        agree = both & ((g - w).abs() <= atol + rtol * scale)
        same_blowup = ~torch.isfinite(g) & ~torch.isfinite(w) & (_kind(g) == _kind(w))
    if expected is None or expected.shape != got.shape:  # a wrong shape is evidence enough
        return bool((agree | same_blowup).all())
    e = expected.detach().cpu().double()
    right = _close_elementwise(g, e, expected.dtype)
    hidden = torch.isfinite(g) & ~torch.isfinite(w) & ~right  # the mistake blows up, the learner clamped it
    consistent = agree | same_blowup | hidden
    explained = (agree | same_blowup) & ~right
    return bool(consistent.all()) and bool(explained.any())


def _kind(values: torch.Tensor) -> torch.Tensor:
    """0 for a finite entry, 1 for nan, 2 for +inf, 3 for -inf."""
    return (torch.isnan(values).long() + 2 * (values == float("inf")).long()
            + 3 * (values == float("-inf")).long())


def _loose(dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol) for recognising a mistake: looser than a check's tolerance, so that the
    same mistake written with an epsilon or in another order is still recognised."""
    return (3e-2, 3e-2) if dtype in (torch.float16, torch.bfloat16) else (1e-3, 1e-6)


def _close_elementwise(got: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    rtol, atol = tolerance(dtype)
    return torch.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)


Passed = Sequence[tuple[str, tuple[Any, ...], dict[str, Any], torch.Tensor]]


def _one(found: list[Mistake], passed: Passed = ()) -> Mistake | None:
    """The mistake the evidence singles out: None when several catalogued mistakes explain
    it equally well (the inputs cannot tell them apart), or none does. `passed` holds the
    calls of the same check whose value was right: a mistake that would have got one of
    them wrong is not the learner's."""
    distinct = list(dict.fromkeys(found))
    if len(distinct) > 1 and passed:
        distinct = [m for m in distinct if _consistent_with(m, passed)]
    return distinct[0] if len(distinct) == 1 else None


def _fresh(value: Any) -> Any:
    """A copy of a call's arguments for replaying a mistake on them: a mistake may change its
    arguments in place (ex01.inputs-modified does), and the check's own tensors, which its
    feedback shows and later comparisons read, must stay as they were."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (list, tuple)):
        return type(value)(_fresh(item) for item in value)
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    return value


class _Raised:
    """What a mistake's implementation gave where it raised: no output to compare."""


_OUTPUTS = Memo(limit=4096)  # what each mistake computes from a check's inputs, the same for every learner


def _output(mistake: Mistake, function: str, implementation: Callable[..., Any], args: tuple[Any, ...],
            kwargs: dict[str, Any]) -> Any:
    """`implementation(*args, **kwargs)` without autograd, on copies of the inputs (`_fresh`);
    `_Raised` where it raised. Computed once per grader process for equal inputs (a check's
    are seeded: see core/memo.py), and read, never changed, by everything that compares it."""
    def compute() -> Any:
        try:
            with torch.no_grad():
                return implementation(*_fresh(args), **_fresh(kwargs))
        except Exception:  # noqa: BLE001 - a mistake that cannot handle this input
            return _Raised

    # Keyed by the mistake's own `wrong` (a class's method is a new object at each look-up),
    # which the entry keeps: another catalogue's, at an address freed since, never gets this output.
    kept, output = _OUTPUTS.get((mistake.id, function, id(mistake.wrong), args, kwargs),
                                lambda: (mistake.wrong, compute()))
    return output if kept is mistake.wrong else compute()


def _consistent_with(mistake: Mistake, passed: Passed) -> bool:
    for function, args, kwargs, expected in passed:
        implementation = mistake.computes(function)
        if implementation is None:
            continue
        wrong = _output(mistake, function, implementation, args, kwargs)
        if wrong is _Raised:  # the learner answered where the mistake cannot
            return False
        if not isinstance(wrong, torch.Tensor) or wrong.shape != expected.shape:
            return False
        if not close(wrong.to(expected.dtype).cpu(), expected.cpu()):
            return False
    return True


def diagnose(module: str, function: str, got: torch.Tensor, args: tuple[Any, ...], kwargs: dict[str, Any],
             expected: torch.Tensor | None = None, passed: Passed = ()) -> Mistake | None:
    """The catalogued mistake whose behaviour on these inputs the learner's result shows (see
    `behaves_like`, or the mistake's own `matches`); None when no mistake or more than one does."""
    evidence = Evidence(got, expected, args, kwargs)
    found: list[Mistake] = []
    for mistake in catalogue(module):
        implementation = mistake.computes(function)
        if implementation is None:
            continue
        if mistake.matches is not None:
            if expected is not None and _safely(mistake.matches, evidence):
                found.append(mistake)
            continue
        wrong = _output(mistake, function, implementation, args, kwargs)
        if isinstance(wrong, torch.Tensor) and behaves_like(got, wrong, expected):
            if expected is not None and behaves_like(expected.to(got.dtype), wrong, None):
                continue  # on these inputs the mistake gives the right answer: no evidence
            found.append(mistake)
    return _one(found, passed)


def rolled(args: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The same call with its first floating-point tensor's entries moved round by one
    (rows along dimension 0, or classes for a single row): inputs of the same kind, shape
    and values, paired with the other arguments differently. None where there is none to move."""
    for index, value in enumerate(args):
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            dim = 0 if value.dim() and value.shape[0] > 1 else value.dim() - 1
            if dim < 0 or value.shape[dim] < 2:
                return None
            return (*args[:index], torch.roll(value, 1, dims=dim), *args[index + 1:])
    return None


def confirmed(mistake: Mistake, function: str, got: torch.Tensor, args: tuple[Any, ...], kwargs: dict[str, Any],
              expected: torch.Tensor) -> bool:
    """Whether `mistake` explains the learner's result `got` on a second call (see `rolled`)
    too: a single number (a 'mean') agreeing with a mistake's to the loose tolerance is one
    coincidence in a few hundred, and over the draws of many grading secrets two mistakes
    (ex05's smoothing over C - 1 and its unweighted smoothing, say) each come to explain one
    another's number. Where the learner is right on the second call, the mistake must be too."""
    if mistake.matches is not None:
        return _safely(mistake.matches, Evidence(got, expected, args, kwargs))
    implementation = mistake.computes(function)
    if implementation is None:
        return False
    wrong = _output(mistake, function, implementation, args, kwargs)
    if not isinstance(wrong, torch.Tensor) or wrong.shape != got.shape:  # or it raised, where the learner answered
        return False
    if got.dtype == expected.dtype and close(got, expected):
        return close(wrong.to(expected.dtype).cpu(), expected.cpu())
    return behaves_like(got, wrong.cpu(), expected)


def _safely(matches: Callable[[Evidence], bool], evidence: Evidence) -> bool:
    try:
        return bool(matches(evidence))
    except Exception:  # noqa: BLE001 - a signature that cannot read this evidence is no match
        return False


def diagnose_gradients(module: str, function: str, got: torch.Tensor, grads: list[torch.Tensor | None], args: tuple[Any, ...], kwargs: dict[str, Any], grad_wrt: tuple[int, ...], grad_output: Any = None,
                       expected: torch.Tensor | None = None,
                       expected_grads: list[torch.Tensor | None] | None = None) -> Mistake | None:
    """The catalogued mistake whose value and gradients (through autograd, for `grad_wrt`)
    on these inputs behave like the learner's: mistakes of a hand-written backward. With the
    reference's value and gradients, matching is by behaviour (`behaves_like`); without, by
    agreement on every entry. None when no mistake or more than one does."""
    evidence = Evidence(got, expected, args, kwargs, tuple(grads), tuple(expected_grads or ()))
    found: list[Mistake] = []
    for mistake in catalogue(module):
        implementation = mistake.computes(function)
        if implementation is None:
            continue
        if mistake.matches is not None:
            if expected_grads is not None and _safely(mistake.matches, evidence):
                found.append(mistake)
            continue
        try:
            inputs = list(_fresh(args))
            for index in grad_wrt:
                inputs[index] = inputs[index].detach().requires_grad_(True)
            with torch.enable_grad():
                wrong = implementation(*inputs, **_fresh(kwargs))
                weight = torch.ones_like(wrong) if grad_output is None else grad_output.to(wrong.dtype)
                wrong_grads = torch.autograd.grad(wrong, [inputs[i] for i in grad_wrt], weight, allow_unused=True)
        except Exception:  # noqa: BLE001 - a mistake that cannot handle this input is no match
            continue
        if not isinstance(wrong, torch.Tensor) or wrong.shape != got.shape or not close(got, wrong.detach().to(got.dtype)):
            continue
        if expected_grads is None:
            if all(_same(mine, theirs) for mine, theirs in zip(grads, wrong_grads)):
                found.append(mistake)
            continue
        if _gradients_explained(grads, wrong_grads, expected_grads):
            found.append(mistake)
    return _one(found)


def _gradients_explained(grads: list[torch.Tensor | None], wrong_grads: tuple[torch.Tensor | None, ...],
                         expected_grads: list[torch.Tensor | None]) -> bool:
    """Every learner gradient that is wrong is wrong the way the mistake's is, and every one
    that is right is right in the mistake's too."""
    explained = False
    for mine, theirs, want in zip(grads, wrong_grads, expected_grads):
        if want is None or mine is None or theirs is None:
            if (mine is None) != (theirs is None):
                return False
            continue
        theirs = theirs.detach().to(mine.dtype)
        if close(mine, want.to(mine.dtype)):
            if not close(theirs, want.to(mine.dtype)):
                return False
            continue
        if not behaves_like(mine, theirs, want.to(mine.dtype)):
            return False
        explained = True
    return explained


def _same(got: torch.Tensor | None, wrong: torch.Tensor | None) -> bool:
    if got is None or wrong is None:
        return got is None and wrong is None
    return got.shape == wrong.shape and close(got, wrong.detach().to(got.dtype))


# --- mistakes shared by every exercise, recognised by a signature ------------------------

"""The catalogue of real learner mistakes, and the diagnosis that names them.

Each exercise has a module here (named like its exercise file) defining `MISCONCEPTIONS`:
a list of `Mistake`, each with a wrong implementation that reproduces it. When a check
fails, the grader runs every catalogued wrong implementation of that function on the same
inputs (in the trusted process: these are our own code) and names the one whose output
the learner's matches. The diagnosis comes from behaviour, never from reading source.
"""
from __future__ import annotations

import functools
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from lossgrade import course
from lossgrade.core import results
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


def _consistent_with(mistake: Mistake, passed: Passed) -> bool:
    for function, args, kwargs, expected in passed:
        implementation = mistake.computes(function)
        if implementation is None:
            continue
        try:
            with torch.no_grad():
                wrong = implementation(*_fresh(args), **_fresh(kwargs))
        except Exception:  # noqa: BLE001 - the learner answered where the mistake cannot
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
        try:
            with torch.no_grad():
                wrong = implementation(*_fresh(args), **_fresh(kwargs))
        except Exception:  # noqa: BLE001 - a mistake that cannot handle this input is no match
            continue
        if isinstance(wrong, torch.Tensor) and behaves_like(got, wrong, expected):
            if expected is not None and behaves_like(expected.to(got.dtype), wrong, None):
                continue  # on these inputs the mistake gives the right answer: no evidence
            found.append(mistake)
    return _one(found, passed)


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
LOW_PRECISION = (torch.float16, torch.bfloat16)


def _upcast_signature(evidence: Evidence) -> bool:
    """Another floating dtype out than came in (float16 in, float32 out; float64 in, float32
    out), with the right values at the coarser of the two precisions."""
    got, expected = evidence.got, evidence.expected
    if expected is None or got.dtype == expected.dtype or got.shape != expected.shape:
        return False
    if not (got.is_floating_point() and expected.is_floating_point()):
        return False
    rtol, atol = max(tolerance(got.dtype), tolerance(expected.dtype))
    return bool(torch.allclose(got.double(), expected.double(), rtol=rtol, atol=atol, equal_nan=True))


def _upcast_inputs(values: tuple[Any, ...]) -> list[Any]:
    return [v.float() if isinstance(v, torch.Tensor) and v.dtype in LOW_PRECISION else v for v in values]


def upcast(exercise: str, function: str, right: Callable[..., Any]) -> Mistake:
    """The mistake of computing in float32 and returning float32 for float16 or bfloat16
    inputs; `right` is torch's own function (the wrong implementation calls it in float32)."""
    return Mistake(
        id=f"{exercise}.upcast-low-precision", function=function,
        name="Returned another dtype than the input's (float32 for a float16, bfloat16 or float64 input)",
        message="Your values are right, but the result did not keep the input's dtype: somewhere a .float(), a "
                "float32 tensor you created, or a Python/numpy step converted it. A loss "
                "keeps the input's dtype (mixed-precision training relies on it); if you compute in float32 for "
                "accuracy, convert the result back with .to(input.dtype).",
        quiz="targets#target-dtype",
        wrong=lambda *args, **kwargs: right(*_upcast_inputs(args), **{k: _upcast_inputs((v,))[0] for k, v in kwargs.items()}),
        matches=_upcast_signature,
    )


def python_number(exercise: str, function: str, right: Callable[..., Any]) -> Mistake:
    """The mistake of returning a Python number (.item(), float()) where a tensor is due;
    named by the check that gets the number (see `by_reply`), `right` being torch's function."""
    def wrong(*args: Any, **kwargs: Any) -> Any:
        out = right(*args, **kwargs)
        return out.item() if isinstance(out, torch.Tensor) and out.numel() == 1 else out
    return Mistake(
        id=f"{exercise}.returns-python-number", function=function,
        name="Returned a Python number (.item() or float()) instead of a tensor",
        message="Your value is a Python float, not a torch.Tensor. A loss must stay a tensor: autograd cannot "
                "follow a Python number back to the inputs (loss.backward() is impossible), and it loses the "
                "dtype and the device. Drop the .item() / float() and return the tensor.",
        quiz="training-step#loss-item",
        wrong=wrong,
    )


def inplace_breaks_backward(exercise: str, function: str, right: Callable[..., Any]) -> Mistake:
    """The mistake of editing in place a tensor that autograd saved for the backward pass
    (d.mul_(d), d.pow_(2)): the value is right, backward fails. Named by the gradient check."""
    def wrong(*args: Any, **kwargs: Any) -> Any:
        out = right(*args, **kwargs)
        return _BreaksBackward.apply(out) if isinstance(out, torch.Tensor) and out.requires_grad else out
    return Mistake(
        id=f"{exercise}.inplace-breaks-backward", function=function,
        name="Edited in place a tensor that autograd needs for the backward pass",
        message="Your value is right, but backward fails: 'one of the variables needed for gradient computation "
                "has been modified by an inplace operation'. An in-place op (mul_, pow_, +=, [...] =) changed a "
                "tensor after another operation saved it for its gradient (d.mul_(d) squares d but destroys the "
                "d that the multiplication's gradient needs). Use the out-of-place form (d * d, d ** 2).",
        quiz="training-step#step-before-backward",
        wrong=wrong,
    )


def detached(exercise: str, function: str, right: Callable[..., Any]) -> Mistake:
    """The mistake of a result cut off from autograd (torch.tensor(x.item()), .detach(), numpy):
    the value is right, no gradient flows. Named by the gradient check (see `by_reply`)."""
    return Mistake(
        id=f"{exercise}.result-detached", function=function,
        name="Rebuilt the result outside autograd (torch.tensor(x.item()), .detach(), numpy)",
        message="Your value is right, but it is not connected to the inputs: a torch.tensor(...) of a number, a "
                ".detach() or a trip through numpy or Python cut the autograd graph, so loss.backward() cannot "
                "reach the model's parameters and it would never learn. Return the tensor that the operations on "
                "the inputs produced.",
        quiz="training-step#loss-item",
        wrong=lambda *args, **kwargs: right(*args, **kwargs).detach(),
    )


def inputs_modified(exercise: str, function: str, right: Callable[..., Any]) -> Mistake:
    """The mistake of editing an argument in place (input -= target, input.sub_(target)): the
    worker compares every tensor argument before and after the call and reports the change."""
    def wrong(*args: Any, **kwargs: Any) -> Any:
        out = right(*args, **kwargs)
        if args and isinstance(args[0], torch.Tensor) and args[0].numel():
            with torch.no_grad():
                args[0].add_(1)
        return out
    return Mistake(
        id=f"{exercise}.inputs-modified", function=function,
        name="Changed the caller's tensor in place (input -= target, input.sub_(...), input[...] = ...)",
        message="Your function changed a tensor it was given: after the call, the caller's predictions (or "
                "labels) hold other values. A training loop still needs them (for the backward pass, for "
                "metrics), so a loss must compute on new tensors: d = input - target, not input -= target.",
        quiz="training-step#step-before-backward",
        wrong=wrong,
    )


# The worker's words (sandbox/_worker.py's INPUT_CHANGED) for a call that changed its arguments.
INPUT_CHANGED_SIGN = "changed a tensor it was given in place"
DETACHED_SIGN = "not connected to the inputs' autograd graph"


class _BreaksBackward(torch.autograd.Function):
    """Identity forward; its backward fails as autograd does after a harmful in-place edit."""

    @staticmethod
    def forward(ctx: Any, value: torch.Tensor) -> torch.Tensor:
        return value.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("one of the variables needed for gradient computation has been modified by an "
                           "inplace operation")


INPLACE_SIGN = "modified by an inplace operation"


def by_reply(module: str, function: str, suffix: str) -> Mistake | None:
    """The catalogued mistake `<exercise>.<suffix>` of `function`, for a check that recognises
    it from the reply itself (a Python number, a failed backward); None where not catalogued."""
    for mistake in catalogue(module):
        if mistake.id.endswith(f".{suffix}") and mistake.function == function:
            return mistake
    return None


def along_one_dim(evidence: Evidence, reduce_dim: Callable[[torch.Tensor, int], torch.Tensor],
                  elementwise: Callable[..., torch.Tensor]) -> bool:
    """The learner's result equals `reduce_dim(elementwise(*args), d)` for some dimension d
    of the input: a mean or sum along one dimension where the whole tensor was meant."""
    got, expected = evidence.got, evidence.expected
    if expected is None or got.shape == expected.shape:
        return False
    values = elementwise(*evidence.args)
    return any(reduce_dim(values, d).shape == got.shape and behaves_like(got, reduce_dim(values, d).to(got.dtype))
               for d in range(values.dim()))


def gradient_wrong_only_where(evidence: Evidence, where: torch.Tensor) -> bool:
    """Every gradient is right except on the entries of the first one where `where` is True
    (a kink that autograd resolves on the wrong side), and wrong on at least one of them."""
    if not evidence.grads or not evidence.expected_grads:
        return False
    got, want = evidence.grads[0], evidence.expected_grads[0]
    if got is None or want is None or got.shape != want.shape or got.shape != where.shape:
        return False
    ok = torch.isclose(got.double().cpu(), want.double().cpu(), rtol=1e-4, atol=1e-6)
    where = where.cpu()
    if not bool(where.any()) or bool(ok[where].all()) or not bool(ok[~where].all()):
        return False
    if not bool(torch.isfinite(got.cpu()[where]).all()):  # a nan there is another mistake
        return False
    return all(g is None or w is None or g.shape != w.shape or bool(torch.isclose(
        g.double().cpu(), w.double().cpu(), rtol=1e-4, atol=1e-6)[~where].all() if g.shape == where.shape else
        torch.isclose(g.double().cpu(), w.double().cpu(), rtol=1e-4, atol=1e-6).all())
        for g, w in zip(evidence.grads[1:], evidence.expected_grads[1:]))


# --- validations left out: named by the checks that expect a refusal and get a value ------
REDUCTIONS = ("mean", "sum", "none")


def unvalidated(right: Callable[..., Any], *, shapes: bool = True, reduction: bool = True,
                message: bool = True) -> Callable[..., Any]:
    """`right` (torch's function, taking input, target, ...) with the validations that are
    kept: the shapes compared (with a message naming both, or not), `reduction` checked;
    what is dropped computes anyway (broadcasting, or no reduction for an unknown name)."""
    def wrong(input: torch.Tensor, target: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get("reduction", args[0] if args else "mean")
        if reduction and name not in REDUCTIONS:
            raise ValueError(f"unknown reduction {name!r}")
        if shapes and input.shape != target.shape:
            raise ValueError(f"{tuple(input.shape)} vs {tuple(target.shape)}" if message else "the shapes differ")
        if name not in REDUCTIONS:
            kwargs = {**kwargs, "reduction": "none"}
            args = ()
        if input.shape != target.shape:
            input, target = torch.broadcast_tensors(input, target)
        return right(input, target, *args, **kwargs)
    return wrong


def validation_mistake(mistake_id: str, function: str, what: str, right: Callable[..., Any],
                       **dropped: bool) -> Mistake:
    """A mistake of leaving out one validation the docstring promises; `what` is one of
    "shapes", "message", "reduction"."""
    texts = {
        "shapes": ("Did not refuse an input and a target of different shapes",
                   "Given an (N, 1) input and an (N,) target your function returned a value: torch broadcast "
                   "them into an (N, N) table of every prediction against every target, and the loss trains "
                   "on nonsense. Compare input.shape with target.shape first and raise ValueError naming both."),
        "message": ("Refused different shapes, but the message does not name both shapes",
                    "Your ValueError is right, but its message leaves out a shape. The person who reads it has "
                    "to find out which tensor is wrong and how: put both shapes in it (an f-string with "
                    "input.shape and target.shape does)."),
        "reduction": ("Did not refuse an unknown `reduction`",
                      "Given reduction='average' (or 'MEAN') your function returned a value instead of raising "
                      "ValueError. A typo in an argument should stop the program, not silently pick another "
                      "behaviour: compare reduction with 'mean', 'sum' and 'none' first."),
    }
    name, message = texts[what]
    return Mistake(id=mistake_id, function=function, name=name, message=message,
                   quiz="loss-scales#sum-vs-mean" if what == "reduction" else "targets#target-shape",
                   wrong=unvalidated(right, **dropped))

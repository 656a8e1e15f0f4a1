"""Mistakes that every exercise's catalogue shares, built from the right implementation: an
upcast, a Python number, a detached or in-place result, inputs changed in place, missing
validation; and the evidence tests that catalogues share. Package-internal: import these
names from `lossgrade.misconceptions`."""
from __future__ import annotations

from typing import Any, Callable

import torch

from lossgrade.core.numerics import tolerance
from lossgrade.misconceptions._diagnosis import Evidence, Mistake, behaves_like, catalogue


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

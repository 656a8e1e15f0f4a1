"""Checks for exercise 09: focal loss, and cross-entropy as a hand-written `autograd.Function`.

A learner's own `torch.autograd.gradcheck` could be made to say anything, so the gradcheck
happens here: the worker only runs `CrossEntropyFunction.apply` (forward values, and the
gradient its backward returns through autograd), and this process compares that gradient
with torch's autograd of `F.cross_entropy` and with central finite differences of the
learner's own forward values, with gradcheck's step and tolerances.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lossgrade import misconceptions
from lossgrade.checks import compare
from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.checks.inputs import LARGE_LOGITS_TARGET, large_logits
from lossgrade.checks.raising import expect_raises_named
from lossgrade.sandbox.replies import Reply

checks = Checks("ex09_custom")

REDUCTIONS = ("mean", "sum", "none")
FUNCTION = "CrossEntropyFunction.apply"
# torch.autograd.gradcheck's defaults
EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3


def _alpha(t: CheckContext, classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Unequal per-class weights whose total is not the number of classes."""
    return (0.1 + 0.9 * t.rand(classes, dtype=torch.float64)).to(dtype)


def _focal_every_reduction(t: CheckContext, logits: torch.Tensor, target: torch.Tensor, **kwargs: Any) -> None:
    for reduction in REDUCTIONS:
        upstream = t.randn(*target.shape, dtype=logits.dtype) if reduction == "none" else None
        t.expect_close("focal_loss", logits, target, reduction=reduction, grad_wrt=(0,), grad_output=upstream,
                       **kwargs)


# --- focal_loss ------------------------------------------------------------------------------
@checks.add("focal_loss with gamma=2 charges samples at p = 0.9, 0.55 and 0.1 the exercise's 0.00105, 0.121 "
            "and 1.865 (and their cross-entropy with gamma=0)",
            hint="p_n is the softmax probability of sample n's true class; the factor (1 - p_n) ** gamma is "
                 "near 0 for an easy sample and near 1 for a hard one.")
def focal_worked_example(t: CheckContext) -> None:
    p = torch.tensor([0.9, 0.55, 0.1])
    logits, target = torch.stack([p.log(), (1 - p).log()], dim=1), torch.zeros(3, dtype=torch.long)
    t.expect_close("focal_loss", logits, target, gamma=2.0, reduction="none")
    t.expect_close("focal_loss", logits, target, gamma=0.0, reduction="none")


@checks.add("with gamma=0 and no alpha, focal_loss is cross-entropy, for every reduction", devices=True,
            hint="With gamma = 0 the factor (1 - p) ** 0 is 1 and what is left is -log p_n, from a log-softmax.")
def focal_gamma_zero(t: CheckContext) -> None:
    _focal_every_reduction(t, t.randn(6, 4, scale=2.0), torch.tensor([3, 0, 2, 2, 1, 0]), gamma=0.0)
    _focal_every_reduction(t, t.randn(3, 10, dtype=torch.float64, scale=2.0), t.randint(10, 3), gamma=0.0)


@checks.add("focal_loss matches the reference for gamma 2 (the default), 5 and 1.5, every reduction, float32 "
            "and float64, and a batch of 1, gradients included", devices=True,
            hint="Use gamma as given, as an exponent: FL_n = -(1 - p_n) ** gamma * log p_n; 'mean' averages "
                 "over the N samples.")
def focal_gammas(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        logits, target = t.randn(6, 4, dtype=dtype, scale=2.0), torch.tensor([1, 0, 3, 3, 2, 1])
        for gamma in (2.0, 5.0, 1.5):
            _focal_every_reduction(t, logits, target, gamma=gamma)
        t.expect_close("focal_loss", logits, target, grad_wrt=(0,))  # the default gamma is 2
    _focal_every_reduction(t, t.randn(1, 5, scale=2.0), torch.tensor([2]), gamma=2.0)


@checks.add("alpha scales each sample's loss by alpha[its class], and 'mean' still divides by the number of "
            "samples: alpha does not normalise", devices=True,
            hint="alpha[target] gives each sample its factor. Unlike F.cross_entropy's weight, the mean here "
                 "is over the N samples, whatever alpha is.")
def focal_alpha(t: CheckContext) -> None:
    # N == C first: `alpha * loss` (alpha by sample, not by class) runs there, and is named
    _focal_every_reduction(t, t.randn(4, 4, scale=2.0), torch.tensor([2, 0, 3, 2]), gamma=2.0, alpha=_alpha(t, 4))
    for dtype in (torch.float32, torch.float64):
        logits, target = t.randn(6, 4, dtype=dtype, scale=2.0), torch.tensor([1, 0, 3, 3, 2, 1])
        for gamma in (0.0, 2.0):
            _focal_every_reduction(t, logits, target, gamma=gamma, alpha=_alpha(t, 4, dtype))


@checks.add("focal_loss is finite and exact for logits as large as 1e4 and -1e4, with and without alpha",
            devices=True,
            hint="Take log p_n from a stable log-softmax (subtract each row's maximum) and p_n = exp(log p_n); "
                 "never take the log of a probability that may have rounded to 0.")
def focal_stability(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        for gamma in (0.0, 2.0, 5.0):
            _focal_every_reduction(t, large_logits(dtype), LARGE_LOGITS_TARGET, gamma=gamma)
        _focal_every_reduction(t, large_logits(dtype), LARGE_LOGITS_TARGET, gamma=2.0, alpha=_alpha(t, 4, dtype))


@checks.add("focal_loss keeps the input's dtype in float16 and bfloat16 too", devices=True,
            hint="Compute with tensor operations on the logits, in their dtype: no .float() or .double() of the "
                 "result (or cast it back with .to(input.dtype)).")
def focal_half_precision(t: CheckContext) -> None:
    for dtype in (torch.float16, torch.bfloat16):
        logits, target = t.randn(6, 4, dtype=dtype, scale=2.0), torch.tensor([1, 0, 3, 3, 2, 1])
        for reduction in ("mean", "none"):
            t.expect_close("focal_loss", logits, target, reduction=reduction,
                           what=f"The {compare.dtype_name(dtype)} result")


@checks.add("focal_loss raises ValueError for an unknown reduction and IndexError for a target outside [0, C)",
            hint="Validate before computing: reduction is one of three names, and every target is in [0, C).")
def focal_bad_arguments(t: CheckContext) -> None:
    logits = t.randn(3, 4)
    for reduction in ("average", "MEAN"):
        expect_raises_named(t, "ex09.no-reduction-check", "focal_loss", logits, torch.tensor([0, 2, 1]),
                            reduction=reduction, errors=("ValueError",))
    why = "A class index outside [0, C) is a bug in the data; a negative one would silently count from the end."
    for bad in (4, -1):
        expect_raises_named(t, "ex09.no-bounds-check", "focal_loss", logits, torch.tensor([0, bad, 1]),
                            errors=("IndexError",), why=why)


# --- CrossEntropyFunction ----------------------------------------------------------------------
# What a worker says when a second backward through the same graph fails or differs
# (sandbox/_results.py: SAVED_CHANGED).
SAVED_CHANGED = "backward changed a tensor that forward saved for it, in place"


def _learner_gradient(t: CheckContext, logits: torch.Tensor, target: torch.Tensor,
                      grad_output: torch.Tensor | None = None) -> tuple[Reply, torch.Tensor]:
    """The learner's forward value and the gradient for the logits that their backward
    returned (autograd ran it in the worker, with `grad_output` as the upstream gradient)."""
    call = t.describe(FUNCTION, (logits, target), {})
    reply = t.call(FUNCTION, logits, target, grad_wrt=(0,), grad_output=grad_output)
    if reply.kind != "tensor":
        t.fail("CrossEntropyFunction.apply should return a 0-d tensor (the mean loss).", call=call,
               got=compare.show(reply.value) if reply.kind == "python" else reply.other_type, output=reply.output)
    if isinstance(reply.grads, str) and SAVED_CHANGED in reply.grads:
        t.fail(f"Your backward gives the right gradient once, but {reply.grads}: it changed a tensor from "
               "ctx.saved_tensors in place, so the graph cannot be walked again (retain_graph=True, or two "
               "losses sharing one forward). Compute the gradient on a new tensor (saved.exp(), saved.clone()).",
               call=call, output=reply.output, mistake="ex09.backward-edits-saved")
    if isinstance(reply.grads, str) or reply.grads is None:
        count = "incorrect number of gradients" in (reply.grads or "")
        t.fail(f"Autograd could not run your backward: {reply.grads}." + (
            " backward returns one value per input of forward, in the same order." if count else ""),
            call=call, output=reply.output, mistake="ex09.backward-one-gradient" if count else None)
    got = reply.grads[0]
    if got is None:
        t.fail("Your backward returned None for the logits: the first value it returns is the gradient of "
               "the loss with respect to the logits.", call=call, output=reply.output)
    if got.dtype != logits.dtype:
        t.fail(f"Your backward's gradient is {compare.dtype_name(got.dtype)} but the logits are "
               f"{compare.dtype_name(logits.dtype)}; a gradient has its input's dtype.", call=call)
    return reply, got


def _diagnosed(t: CheckContext, reply: Reply, logits: torch.Tensor, target: torch.Tensor,
               grad_output: torch.Tensor | None) -> misconceptions.Mistake | None:
    return misconceptions.diagnose_gradients(t.module, FUNCTION, reply.value, reply.grads, (logits, target), {},
                                             (0,), grad_output)


def _expect_backward(t: CheckContext, logits: torch.Tensor, target: torch.Tensor,
                     grad_output: torch.Tensor | None = None) -> None:
    """The learner's backward equals torch's autograd of F.cross_entropy, times grad_output."""
    reply, got = _learner_gradient(t, logits, target, grad_output)
    leaf = logits.detach().clone().requires_grad_(True)
    upstream = torch.ones((), dtype=logits.dtype) if grad_output is None else grad_output.to(logits.dtype)
    (want,) = torch.autograd.grad(F.cross_entropy(leaf, target), leaf, upstream)
    problem = compare.mismatch(got, want)
    if problem:
        t.fail(f"The gradient your backward returns for the logits is wrong: "
               f"{problem}.", call=t.describe(FUNCTION, (logits, target), {}) + f" with grad_output = "
               f"{compare.show(upstream)}", got=compare.show(got), expected=compare.show(want),
               mistake=_diagnosed(t, reply, logits, target, grad_output))


def _forward_value(t: CheckContext, reply: Reply, logits: torch.Tensor, target: torch.Tensor) -> float:
    if reply.kind != "tensor" or reply.value.numel() != 1:
        t.fail("CrossEntropyFunction.apply should return a 0-d tensor (the mean loss).",
               call=t.describe(FUNCTION, (logits, target), {}), output=reply.output)
    return float(reply.value.double().item())


def _finite_differences(t: CheckContext, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every logit, from the learner's forward
    (its values from one driver; from the first that is not a plain number on, the calls
    one by one, in one request, to say which and why)."""
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for index in range(logits.numel()):
        step = torch.zeros(logits.numel(), dtype=logits.dtype)
        step[index] = EPS
        step = step.view_as(logits)
        calls += [((logits + step, target), {}), ((logits - step, target), {})]
    values = t.values_of(FUNCTION, [args for args, _ in calls])
    rest = calls[len(values):]
    if rest:
        values += [_forward_value(t, reply, *args) for reply, (args, _) in zip(t.call_each(FUNCTION, rest), rest, strict=True)]
    numeric = [(ahead - behind) / (2 * EPS) for ahead, behind in zip(values[0::2], values[1::2], strict=True)]
    return torch.tensor(numeric, dtype=torch.float64).view_as(logits)


@checks.add("CrossEntropyFunction.apply(logits, target) equals mean cross-entropy: float32 and float64 "
            "(precision kept), a batch of 1, and logits as large as 1e4 and -1e4", devices=True,
            hint="forward gets (ctx, logits, target) and returns -mean(log p_n) from a stable log-softmax; save "
                 "what backward needs with ctx.save_for_backward(...).")
def function_forward(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        t.expect_close(FUNCTION, t.randn(5, 4, dtype=dtype, scale=2.0), torch.tensor([3, 0, 2, 2, 1]))
        t.expect_close(FUNCTION, t.randn(1, 6, dtype=dtype, scale=2.0), torch.tensor([4]))
        t.expect_close(FUNCTION, large_logits(dtype), LARGE_LOGITS_TARGET)
    near = 1000.0 + t.randn(3, 4, dtype=torch.float64, scale=1e-3)  # float32 cannot hold these gaps
    t.expect_close(FUNCTION, near, torch.tensor([1, 3, 0]), what="The float64 result")


@checks.add("its backward returns one value per input of forward: for the logits, autograd's gradient of mean "
            "cross-entropy times grad_output (1, 2.5 and -0.5 here, and for logits as large as 1e4); for the "
            "target, None", devices=True,
            hint="backward(ctx, grad_output) returns one value per input of forward: (softmax - one_hot) / N "
                 "times grad_output for the logits, then None for the class indices.")
def function_backward(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        logits, target = t.randn(5, 4, dtype=dtype, scale=2.0), torch.tensor([3, 0, 2, 2, 1])
        for upstream in (None, torch.tensor(2.5, dtype=dtype), torch.tensor(-0.5, dtype=dtype)):
            _expect_backward(t, logits, target, upstream)
        _expect_backward(t, t.randn(1, 6, dtype=dtype, scale=2.0), torch.tensor([4]))
        _expect_backward(t, large_logits(dtype), LARGE_LOGITS_TARGET, torch.tensor(1.5, dtype=dtype))


@checks.add("CrossEntropyFunction passes a gradcheck in float64, computed by the grader: the gradient from "
            "your backward equals finite differences of your own forward",
            hint="gradcheck nudges each logit by 1e-6 both ways and compares the change of your forward's "
                 "value with your backward's gradient. A mismatch means forward and backward describe "
                 "different functions (a missing 1/N, a sign).")
def function_gradcheck(t: CheckContext) -> None:
    cases = [(t.randn(3, 4, dtype=torch.float64), torch.tensor([0, 3, 1])),
             (t.randn(1, 5, dtype=torch.float64, scale=2.0), torch.tensor([2])),
             (t.randn(4, 3, dtype=torch.float64, scale=4.0), torch.tensor([2, 0, 1, 1]))]
    for logits, target in cases:
        reply, analytic = _learner_gradient(t, logits, target)
        numeric = _finite_differences(t, logits, target)
        if analytic.shape != numeric.shape:  # fit_call refuses this already; never compare by broadcasting
            t.fail(f"Your backward's gradient has shape {compare.shape(analytic)}, but the logits have shape "
                   f"{compare.shape(logits)}.", call=t.describe(FUNCTION, (logits, target), {}))
        if not compare.within(analytic, numeric, rtol=RTOL, atol=ATOL):
            worst = (analytic - numeric).abs().max().item()
            t.fail(f"Your backward disagrees with finite differences of your forward (largest difference "
                   f"{worst:.3g}; gradcheck allows {ATOL:g} + {RTOL:g} * |numeric|), so torch.autograd.gradcheck "
                   "would fail.", call=t.describe(FUNCTION, (logits, target), {}),
                   got=compare.show(analytic), expected=compare.show(numeric) + " (finite differences)",
                   mistake=_diagnosed(t, reply, logits, target, None))

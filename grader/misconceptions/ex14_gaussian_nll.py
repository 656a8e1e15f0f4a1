"""Mistakes learners make writing the Gaussian negative log-likelihood.

Each wrong implementation reproduces one mistake and is otherwise right: it validates,
shares a variance along the same dimension and clamps as torch does, except for the one
thing it gets wrong. They run in the trusted process, so they may call torch's own
`F.gaussian_nll_loss`.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import (
    Evidence, Mistake, detached, inplace_breaks_backward, python_number, reduce as _reduce, upcast,
)

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
Var = torch.Tensor | float


def _right(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False, eps: float = 1e-6,
           reduction: str = "mean") -> torch.Tensor:
    return F.gaussian_nll_loss(input, target, var, full=full, eps=eps, reduction=reduction)


def _shared(input: torch.Tensor, var: Var, *, negative: bool = True, shape: bool = True,
            unsqueeze: bool = True) -> torch.Tensor:
    """`var` as a tensor that broadcasts against `input`, validated as torch does, except
    for the checks switched off (`negative`, `shape`) and the unsqueeze of an (N,) var."""
    if isinstance(var, float):
        if negative and var < 0:
            raise ValueError("var has negative entries")
        return var * torch.ones_like(input)
    if negative and bool((var < 0).any()):
        raise ValueError("var has negative entries")
    if var.shape == input.shape:
        return var
    if var.shape == input.shape[:-1]:
        return var.unsqueeze(-1) if unsqueeze else var
    fits = var.dim() == input.dim() and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1
    if shape and not fits:
        raise ValueError("var is of incorrect size")
    return var


def _clamped(var: torch.Tensor, eps: float) -> torch.Tensor:
    """torch's clamp: the value is at least eps, the gradient flows as if unclamped."""
    var = var.clone()
    with torch.no_grad():
        var.clamp_(min=eps)
    return var


def _finish(loss: torch.Tensor, full: bool, reduction: str, *, reductions: bool = True) -> torch.Tensor:
    if reductions and reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not valid")
    if full:
        loss = loss + HALF_LOG_2PI
    return _reduce(loss, reduction)


def _pointwise(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False, eps: float = 1e-6,
               reduction: str = "mean", *, half_log: float = 0.5, half_square: float = 0.5,
               clamp: Callable[[torch.Tensor, float], torch.Tensor] = _clamped) -> torch.Tensor:
    """The right loss, with the factors in front of log(var) and of the squared error, and
    the way eps is applied, as given."""
    v = clamp(_shared(input, var), eps)
    return _finish(half_log * torch.log(v) + half_square * (input - target) ** 2 / v, full, reduction)


def _std_not_variance(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> torch.Tensor:
    sigma = _clamped(_shared(input, var), eps)
    variance = sigma ** 2  # the predicted number read as a standard deviation, squared
    return _finish(0.5 * (torch.log(variance) + (input - target) ** 2 / variance), full, reduction)


def _full_as(constant: float | None, always: bool = False) -> Callable[..., torch.Tensor]:
    """`full` adding `constant` (None: nothing), or adding it whether full is asked or not."""
    def wrong(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False, eps: float = 1e-6,
              reduction: str = "mean") -> torch.Tensor:
        loss = _right(input, target, var, full=False, eps=eps, reduction="none")
        if (full or always) and constant is not None:
            loss = loss + constant
        return _finish(loss, False, reduction)
    return wrong


def _floored_at_zero(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False,
                     eps: float = 1e-6, reduction: str = "mean") -> torch.Tensor:
    loss = _right(input, target, var, full=full, eps=eps, reduction="none").clamp(min=0)
    return _finish(loss, False, reduction)


def _absolute(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False, eps: float = 1e-6,
              reduction: str = "mean") -> torch.Tensor:
    loss = _right(input, target, var, full=False, eps=eps, reduction="none").abs()
    return _finish(loss, full, reduction)


def _made_positive(evidence: Evidence) -> bool:
    """Unreduced losses equal to |torch's|, where some of torch's are clearly negative: a
    reduced value cannot tell |l| from a floor at 0 or from the right answer when only a few
    losses are slightly negative, so only 'none' is evidence."""
    got, expected = evidence.got, evidence.expected
    if evidence.kwargs.get("reduction", "mean") != "none" or expected is None or got.shape != expected.shape:
        return False
    g, e = got.detach().double().cpu(), expected.double().cpu()
    return bool((e < -1e-2).any()) and bool(torch.allclose(g, e.abs(), rtol=1e-3, atol=1e-5))


def _sum_for_mean(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False, eps: float = 1e-6,
                  reduction: str = "mean") -> torch.Tensor:
    return _right(input, target, var, full=full, eps=eps, reduction="sum" if reduction == "mean" else reduction)


def _divide_by_rows(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False, eps: float = 1e-6,
                    reduction: str = "mean") -> torch.Tensor:
    if reduction != "mean":
        return _right(input, target, var, full=full, eps=eps, reduction=reduction)
    loss = _right(input, target, var, full=full, eps=eps, reduction="none")
    if input.numel() == input.shape[0]:
        # An (N,) or (N, 1) input has as many elements as rows: dividing by either gives the
        # same value, which is no evidence of this mistake (a file dividing by input.numel()
        # where the target broadcasts the loss to (N, D) would be named by it).
        raise ValueError("no evidence: the input has one element per row")
    return loss.sum() / loss.shape[0]


def _wrong_axis(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False, eps: float = 1e-6,
                reduction: str = "mean") -> torch.Tensor:
    v = _clamped(_shared(input, var, unsqueeze=False), eps)  # (N,) against (N, D): one variance per column
    return _finish(0.5 * (torch.log(v) + (input - target) ** 2 / v), full, reduction)


def _zero_refused(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False, eps: float = 1e-6,
                  reduction: str = "mean") -> torch.Tensor:
    if bool((torch.as_tensor(var) == 0).any()):
        raise ValueError("var must be positive")
    return _right(input, target, var, full=full, eps=eps, reduction=reduction)


def _unvalidated(*, negative: bool = True, shape: bool = True, reductions: bool = True) -> Callable[..., torch.Tensor]:
    """The right loss with one validation left out: what is not refused is computed anyway
    (a negative variance raised to eps, a var broadcast as it comes, no reduction)."""
    def wrong(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False, eps: float = 1e-6,
              reduction: str = "mean") -> torch.Tensor:
        v = _clamped(_shared(input, var, negative=negative, shape=shape), eps)
        loss = 0.5 * (torch.log(v) + (input - target) ** 2 / v)
        if not reductions and reduction not in ("mean", "sum", "none"):
            reduction = "none"
        return _finish(loss, full, reduction, reductions=reductions)
    return wrong


def _var_clamped_in_place(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False,
                          eps: float = 1e-6, reduction: str = "mean") -> torch.Tensor:
    if isinstance(var, torch.Tensor):
        with torch.no_grad():
            var.clamp_(min=eps)  # the caller's tensor, without a clone
    return _right(input, target, var, full=full, eps=eps, reduction=reduction)


def _clamp(var: torch.Tensor, eps: float) -> torch.Tensor:
    return torch.clamp(var, min=eps)


def _add_eps(var: torch.Tensor, eps: float) -> torch.Tensor:
    return var + eps


def _no_clamp(var: torch.Tensor, eps: float) -> torch.Tensor:
    return var


def _fixed_eps(var: torch.Tensor, eps: float) -> torch.Tensor:
    return _clamped(var, 1e-6)


def _pointwise_with(**changes: Any) -> Callable[..., torch.Tensor]:
    def wrong(input: torch.Tensor, target: torch.Tensor, var: Var, full: bool = False, eps: float = 1e-6,
              reduction: str = "mean") -> torch.Tensor:
        return _pointwise(input, target, var, full, eps, reduction, **changes)
    return wrong


FUNCTION = "gaussian_nll_loss"

MISCONCEPTIONS = [
    Mistake(
        id="ex14.std-not-variance", function=FUNCTION,
        name="Read `var` as a standard deviation and squared it",
        message="Your loss treats the var you were given as sigma and squares it: log(var**2) + error**2 / var**2. "
                "The argument is already the variance, sigma squared. A model that outputs a standard deviation "
                "must square it before the call (var = sigma ** 2); squaring a variance again makes every "
                "uncertainty wrong by a square.",
        quiz="uncertainty#std-or-variance",
        wrong=_std_not_variance,
    ),
    Mistake(
        id="ex14.missing-half", function=FUNCTION,
        name="Left out the factor 0.5 (log(var) + error**2 / var)",
        message="Your loss is exactly twice torch's: the Gaussian's negative log-density is 0.5 * log(var) + "
                "error**2 / (2 * var), so both terms carry the 0.5. The minimum is in the same place, but the "
                "loss and every gradient are doubled, which changes what a learning rate means.",
        quiz="uncertainty#the-half",
        wrong=_pointwise_with(half_log=1.0, half_square=1.0),
    ),
    Mistake(
        id="ex14.half-only-on-log", function=FUNCTION,
        name="Put the 0.5 on log(var) only (0.5 * log(var) + error**2 / var)",
        message="Your squared-error term lacks its 0.5: the density has error**2 / (2 * var), as log(sigma) + "
                "error**2 / (2 * sigma**2) shows. Without it the error weighs twice as much as the variance "
                "term, and the variance the model learns comes out twice too large (the loss is smallest at "
                "var = 2 * error**2 instead of error**2).",
        quiz="uncertainty#the-half",
        wrong=_pointwise_with(half_log=0.5, half_square=1.0),
    ),
    Mistake(
        id="ex14.log-not-halved", function=FUNCTION,
        name="Put the 0.5 on the squared error only (log(var) + error**2 / (2 * var))",
        message="Your log term lacks its 0.5: log(sigma) is 0.5 * log(var), not log(var). With the log term "
                "doubled, a wide variance costs twice what it should, and the variance the model learns comes "
                "out half as large as the errors it makes (the loss is smallest at var = error**2 / 2).",
        quiz="uncertainty#the-half",
        wrong=_pointwise_with(half_log=1.0, half_square=0.5),
    ),
    Mistake(
        id="ex14.clamp-kills-gradient", function=FUNCTION,
        name="Clamped var with torch.clamp, so no gradient reaches a variance below eps",
        message="Your values are right, but where var is below eps the gradient with respect to var is 0: "
                "torch.clamp passes no gradient to the values it raised. A model whose variance has collapsed "
                "below eps would never be pushed back up. torch clamps a copy of var under torch.no_grad(): "
                "the loss uses the clamped value, the gradient flows to var as if nothing had been clamped.",
        quiz="uncertainty#clamp-gradient",
        wrong=_pointwise_with(clamp=_clamp),
    ),
    Mistake(
        id="ex14.eps-added", function=FUNCTION,
        name="Added eps to var (var + eps) instead of raising var to at least eps",
        message="Your loss uses var + eps everywhere, so every small variance is shifted: var = eps becomes "
                "2 * eps, which changes the loss of a confident prediction. eps is a floor, not an offset: "
                "clamp (a copy of) var to at least eps.",
        quiz="uncertainty#clamp-gradient",
        wrong=_pointwise_with(clamp=_add_eps),
    ),
    Mistake(
        id="ex14.no-eps-clamp", function=FUNCTION,
        name="Did not raise var to eps, so a tiny or zero variance blows the loss up",
        message="Your loss uses var as it comes: a variance of 0 gives log(0) = -inf and error**2 / 0 = inf (nan "
                "when the error is 0 too), and a variance of 1e-9 with an error of 0.1 costs 5e6 instead of 4993. "
                "torch raises every variance to at least eps before the log and the division.",
        quiz="uncertainty#clamp-gradient",
        wrong=_pointwise_with(clamp=_no_clamp),
    ),
    Mistake(
        id="ex14.eps-ignored", function=FUNCTION,
        name="Raised var to a fixed 1e-6 whatever `eps` says",
        message="Your loss is right with the default eps, but with another eps it still uses 1e-6: the argument "
                "is ignored. Use the `eps` you are given.",
        quiz="uncertainty#clamp-gradient",
        wrong=_pointwise_with(clamp=_fixed_eps),
    ),
    Mistake(
        id="ex14.full-ignored", function=FUNCTION,
        name="Ignored full=True (no 0.5 * log(2 * pi))",
        message="With full=True your loss lacks the constant 0.5 * log(2 * pi) = 0.919 per element, the part of "
                "the Gaussian's negative log-density that does not depend on the prediction. It changes no "
                "gradient, but a loss reported as a negative log-likelihood (to compare models) needs it.",
        quiz="uncertainty#full-constant",
        wrong=_full_as(None),
    ),
    Mistake(
        id="ex14.full-without-half", function=FUNCTION,
        name="With full=True, added log(2 * pi) instead of 0.5 * log(2 * pi)",
        message="Your full=True loss adds log(2 * pi) = 1.838 per element; the constant is 0.5 * log(2 * pi) = "
                "0.919, the log of the 1 / sqrt(2 * pi) in front of the density.",
        quiz="uncertainty#full-constant",
        wrong=_full_as(math.log(2 * math.pi)),
    ),
    Mistake(
        id="ex14.full-always", function=FUNCTION,
        name="Added 0.5 * log(2 * pi) even with full=False",
        message="Your loss adds the constant 0.5 * log(2 * pi) = 0.919 to every element even when full is False "
                "(the default). torch leaves it out unless full=True.",
        quiz="uncertainty#full-constant",
        wrong=_full_as(HALF_LOG_2PI, always=True),
    ),
    Mistake(
        id="ex14.nll-floored-at-zero", function=FUNCTION,
        name="Floored the loss at 0, as if a negative log-likelihood could not be negative",
        message="Your loss is 0 where torch's is negative. A Gaussian density can exceed 1 (with var 0.01 its "
                "peak is about 4), so its negative log can go below 0: a right, confident prediction (error 0, "
                "var 0.01) costs -2.303. Flooring at 0 removes the reward for being confident and right, and "
                "the gradient there.",
        quiz="uncertainty#negative-nll",
        wrong=_floored_at_zero,
    ),
    Mistake(
        id="ex14.nll-made-positive", function=FUNCTION,
        name="Took the absolute value of the loss, as if a negative log-likelihood could not be negative",
        message="Your loss is |torch's loss|: where the Gaussian NLL is negative (a right, confident prediction: "
                "error 0 with var 0.01 costs -2.303), yours is positive, so the better the prediction the worse "
                "it scores, and the gradient there points the wrong way. A density can exceed 1, so its negative "
                "log can be below 0: keep the sign.",
        quiz="uncertainty#negative-nll",
        wrong=_absolute,
        matches=_made_positive,
    ),
    Mistake(
        id="ex14.sum-not-mean", function=FUNCTION,
        name="Summed the losses for reduction='mean'",
        message="Your 'mean' equals the sum of the elementwise losses. A sum grows with the batch size; 'mean' "
                "divides by the number of elements, as .mean() does.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_sum_for_mean,
    ),
    Mistake(
        id="ex14.divide-by-rows", function=FUNCTION,
        name="Divided by the number of rows instead of the number of elements",
        message="Your 'mean' divides the summed loss by input.shape[0]. torch averages over every element of "
                "the loss (all N * D of an (N, D) input), so a mean does not grow with the number of outputs "
                "per sample: use .mean().",
        quiz="loss-scales#sum-vs-mean",
        wrong=_divide_by_rows,
    ),
    Mistake(
        id="ex14.shared-var-wrong-axis", function=FUNCTION,
        name="Broadcast an (N,) variance against an (N, D) input without unsqueezing it",
        message="Given one variance per row, var of shape (N,) for an (N, D) input, your loss used it as one "
                "variance per column: broadcasting lines up the last dimensions, so (N,) meets D, not N (and "
                "fails outright when N != D). torch unsqueezes such a var to (N, 1) first, so that each row's "
                "variance is shared by that row's values.",
        quiz="uncertainty#shared-variance",
        wrong=_wrong_axis,
    ),
    Mistake(
        id="ex14.zero-var-refused", function=FUNCTION,
        name="Refused a variance of exactly 0",
        message="Your code raised ValueError for a variance of 0. torch accepts 0 (only negative variances are "
                "refused) and raises it to eps: a model's variance head can output 0 (a ReLU does), and "
                "training must go on. Refuse var < 0, clamp the rest.",
        quiz="uncertainty#clamp-gradient",
        wrong=_zero_refused,
    ),
    Mistake(
        id="ex14.negative-var-not-refused", function=FUNCTION,
        name="Did not refuse a negative variance",
        message="Given a negative variance your function returned a value (the clamp silently turned it into "
                "eps, or log() turned it into nan). A variance is never negative: a negative one means the "
                "model's variance head is wrong (use softplus or exp on its output). torch raises ValueError; "
                "check (var < 0).any() before anything else.",
        quiz="uncertainty#negative-variance",
        wrong=_unvalidated(negative=False),
    ),
    Mistake(
        id="ex14.var-shape-not-checked", function=FUNCTION,
        name="Did not refuse a var whose shape does not fit the input",
        message="Given a var of a shape torch refuses (such as (D,) or (1, 1) for an (N, D) input), your function "
                "broadcast it and returned a value, or crashed inside the arithmetic. torch accepts only the "
                "input's shape, the input's shape without its last dimension, or the same number of dimensions "
                "with one dimension of size 1, and raises ValueError otherwise: a var of another shape is "
                "almost always a bug upstream.",
        quiz="uncertainty#shared-variance",
        wrong=_unvalidated(shape=False),
    ),
    Mistake(
        id="ex14.reduction-not-checked", function=FUNCTION,
        name="Did not refuse an unknown `reduction`",
        message="Given reduction='average' your function returned a value instead of raising ValueError. A typo "
                "in an argument should stop the program, not silently pick another behaviour: compare reduction "
                "with 'mean', 'sum' and 'none'.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_unvalidated(reductions=False),
    ),
    Mistake(
        id="ex14.inputs-modified", function=FUNCTION,
        name="Clamped the caller's var in place (var.clamp_ without a clone)",
        message="Your function changed the var it was given: after the call, the caller's variances below eps "
                "hold eps. The caller still needs them (its model's outputs, for the backward pass and for "
                "metrics). torch clones var first and clamps the copy: var = var.clone(), then clamp_ under "
                "torch.no_grad().",
        quiz="training-step#step-before-backward",
        wrong=_var_clamped_in_place,
    ),
    upcast("ex14", FUNCTION, _right),
    python_number("ex14", FUNCTION, _right),
    inplace_breaks_backward("ex14", FUNCTION, _right),
    detached("ex14", FUNCTION, _right),
]

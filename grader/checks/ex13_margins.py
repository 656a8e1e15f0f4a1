"""Checks for exercise 13: `margin_ranking_loss` and `triplet_margin_loss`.

Written with the instructor API alone (`lossgrade.checks.framework`, `.naming`), as a course
folder's checks would be.

The hinge max(0, z) has a corner at z = 0. Exactly there every slope between 0 and 1 is a
subgradient: torch's clamp takes 1, relu 0, torch.maximum 0.5, and a formula whose z rounds
to a hair above or below 0 takes 1 or 0. So at the elements that sit on the margin the
checks accept, for every input, any gradient between 0 and the reference's (which is
torch's full slope), and the value must be 0; everywhere else the gradient must be exact.
Random inputs never land on the corner; the checks put elements there on purpose, with
numbers whose every sum and norm is exact in binary (1.5 - 1.0 + 0.5 - 1.0; a 3-4-5 triangle).

eps is tested at 0.5 in float64 as well as at torch's 1e-6: at 1e-6 an eps outside the
norm, on the wrong side of the difference or left out changes the distance by less than
float32 can see.
"""
from __future__ import annotations

from typing import Any

import torch

from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.checks.naming import expect_refusal
from lossgrade.misconceptions import DETACHED_SIGN, INPLACE_SIGN, by_reply, diagnose_gradients

checks = Checks("ex13_margins")

RANKING = "margin_ranking_loss"
TRIPLET = "triplet_margin_loss"
REDUCTIONS = ("mean", "sum", "none")
DTYPES = (torch.float32, torch.float64)
LOW_PRECISION = (torch.float16, torch.bfloat16)


def _labels(t: CheckContext, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """1 and -1, both present whenever there are two elements or more."""
    signs = 2 * t.randint(2, *shape) - 1
    flat = signs.view(-1)
    if flat.numel() >= 2:
        flat[0], flat[1] = 1, -1
    return signs.to(dtype)


def _triplets(t: CheckContext, n: int, d: int, dtype: torch.dtype = torch.float32,
              spread: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Anchors, positives near them, negatives at every distance: some triplets cost nothing,
    some are violated, and, whatever the draw, the first quarter's negatives lie beyond their
    positive, seen from the anchor, so that swap changes their loss (d(p, n) = d(a, p) / 2 <
    d(a, n) = 1.5 d(a, p), and the swapped loss is above the margin), and the last triplet of
    two or more is easy (its negative is on the far side of the anchor, more than the margin
    further than the positive): a swap or a hinge left out fails under every grading secret."""
    anchor = t.randn(n, d, dtype=torch.float64, scale=spread)
    positive = anchor + t.randn(n, d, dtype=torch.float64, scale=0.6 * spread)
    negative = anchor + t.randn(n, d, dtype=torch.float64, scale=spread) * (0.3 + 2 * t.rand(n, 1, dtype=torch.float64))
    beyond = max(1, n // 4)
    negative[:beyond] = positive[:beyond] + 0.5 * (positive[:beyond] - anchor[:beyond])
    if n >= 2:  # and the last triplet is easy: its negative far beyond the margin (the hinge gives 0)
        far = positive[-1] - anchor[-1]
        negative[-1] = anchor[-1] - far * (3 + 4 / max(float(far.norm()), 1e-3))
    return anchor.to(dtype), positive.to(dtype), negative.to(dtype)


def _expect_gradients(t: CheckContext, function: str, *args: torch.Tensor, grad_wrt: tuple[int, ...],
                      **kwargs: Any) -> None:
    """'mean' and 'sum', then 'none' under a random upstream gradient."""
    for reduction in ("mean", "sum"):
        t.expect_close(function, *args, reduction=reduction, grad_wrt=grad_wrt, **kwargs)
    out, _ = t.reference_value(function, *args, reduction="none", **kwargs)
    upstream = t.randn(*out.shape, dtype=out.dtype)
    t.expect_close(function, *args, reduction="none", grad_wrt=grad_wrt, grad_output=upstream, **kwargs)


def _expect_subgradients(t: CheckContext, function: str, args: tuple[Any, ...], on_margin: torch.Tensor,
                         grad_wrt: tuple[int, ...], **kwargs: Any) -> None:
    """The value equals the reference's; the gradient with respect to each argument in
    `grad_wrt` equals it too, except in the elements (or rows) `on_margin`, where any value
    between 0 and the reference's (torch's full slope) is a subgradient and is accepted."""
    t.expect_close(function, *args, **kwargs)
    out, expected = t.reference_value(function, *args, grad_wrt=grad_wrt, **kwargs)
    reply = t.call(function, *args, grad_wrt=grad_wrt, **kwargs)
    call = t.describe(function, args, kwargs)
    if reply.kind != "tensor":  # it answered with a tensor a moment ago: learner code decides what it sends
        t.fail("Your function returned a tensor for this call once and something else the second time; it should "
               "return the same tensor every time", call=call, output=reply.output)
    if isinstance(reply.grads, str) or reply.grads is None:
        why = str(reply.grads)
        suffix = "inplace-breaks-backward" if INPLACE_SIGN in why else "result-detached" if DETACHED_SIGN in why else ""
        t.fail(f"The value is right but gradients cannot flow back through it: {reply.grads}. Build the result "
               "from the inputs with tensor operations only (no .item(), .detach(), .numpy() or torch.tensor(...) "
               "of a result)", call=call, output=reply.output,
               mistake=by_reply(t.module, function, suffix) if suffix else None)
    for position, got, want in zip(grad_wrt, reply.grads, expected, strict=True):
        if want is None:
            continue
        if got is None:
            t.fail(f"The gradient with respect to argument {position + 1} is missing: the result does not depend "
                   "on it through autograd", call=call)
        got, want = got.detach().cpu().double(), want.detach().cpu().double()
        corner = on_margin.cpu().reshape(on_margin.shape + (1,) * (want.dim() - on_margin.dim())).expand_as(want)
        rtol, atol = (1e-7, 1e-9) if want.dtype == torch.float64 and args[0].dtype == torch.float64 else (1e-4, 1e-5)
        exact = torch.isclose(got, want, rtol=rtol, atol=atol)
        low, high = torch.minimum(want, torch.zeros_like(want)), torch.maximum(want, torch.zeros_like(want))
        slack = atol + rtol * want.abs()
        between = (got >= low - slack) & (got <= high + slack)
        ok = torch.where(corner, between, exact)
        if not bool(ok.all()):
            where = "on the margin, where any slope between 0 and torch's is accepted," if bool(
                (~ok & corner).any()) else "away from the margin"
            mistake = diagnose_gradients(t.module, function, reply.value, reply.grads, args, kwargs, grad_wrt,
                                         None, expected=out.cpu(), expected_grads=expected)
            t.fail(f"The value is right but its gradient with respect to argument {position + 1} is wrong {where}: "
                   f"largest difference {(got - want).abs().max().item():.3g}. A step somewhere breaks or changes "
                   "the gradient (a detach, an in-place edit, a clamp in the wrong place?).", call=call,
                   got=str(got.flatten()[:6].tolist()), expected=str(want.flatten()[:6].tolist()), mistake=mistake)


# --- margin_ranking_loss ------------------------------------------------------------
@checks.add("margin_ranking_loss of x1 = [0.8, 0.2, 0.5], x2 = [0.3, 0.6, 0.5], y = [1, 1, -1] with margin 0.1 "
            "is [0, 0.5, 0.1], as in the exercise",
            hint="y = 1 asks x1 to be higher than x2 by the margin: the cost is max(0, -y * (x1 - x2) + margin), "
                 "which is 0 once the order holds with room to spare.")
def ranking_worked_example(t: CheckContext) -> None:
    x1, x2, y = torch.tensor([0.8, 0.2, 0.5]), torch.tensor([0.3, 0.6, 0.5]), torch.tensor([1.0, 1.0, -1.0])
    t.expect_close(RANKING, x1, x2, y, margin=0.1, reduction="none")
    t.expect_close(RANKING, x1, x2, y, margin=0.1)


@checks.add("margin_ranking_loss matches the reference for reduction='mean', 'sum' and 'none', margins 0, 0.5 "
            "and 2, in float32 and float64, and keeps float16 and bfloat16", devices=True,
            hint="One cost per element: max(0, -y * (x1 - x2) + margin). 'mean' divides their sum by the number "
                 "of elements, those that cost 0 included.")
def ranking_reductions(t: CheckContext) -> None:
    for dtype in DTYPES:
        x1, x2, y = t.randn(12, dtype=dtype), t.randn(12, dtype=dtype), _labels(t, 12, dtype=dtype)
        for margin in (0.0, 0.5, 2.0):
            for reduction in REDUCTIONS:
                t.expect_close(RANKING, x1, x2, y, margin=margin, reduction=reduction)
    for dtype in LOW_PRECISION:
        x1, x2, y = t.randn(10, dtype=dtype), t.randn(10, dtype=dtype), _labels(t, 10, dtype=dtype)
        for reduction in ("mean", "none"):
            t.expect_close(RANKING, x1, x2, y, margin=0.5, reduction=reduction,
                           what=f"The {str(dtype).removeprefix('torch.')} result")


@checks.add("margin_ranking_loss works for every shape: a scalar, a batch of 1, 2-D and 3-D, empty (whose mean "
            "is nan, as torch's), and integer labels", devices=True,
            hint="Everything is elementwise until the reduction, which runs over every element; labels given as "
                 "integers still mean 1 and -1.")
def ranking_shapes(t: CheckContext) -> None:
    for shape in ((), (1,), (4, 3), (2, 3, 2), (0,)):
        x1, x2, y = t.randn(*shape), t.randn(*shape), _labels(t, *shape)
        for reduction in REDUCTIONS:
            t.expect_close(RANKING, x1, x2, y, margin=0.3, reduction=reduction)
    x1, x2 = t.randn(6), t.randn(6)
    t.expect_close(RANKING, x1, x2, _labels(t, 6).long(), margin=0.2, reduction="none")


@checks.add("margin_ranking_loss on the margin: pairs whose -y * (x1 - x2) + margin is exactly 0 cost 0, and "
            "their gradient may be any slope between relu's 0 and torch's 1", devices=True,
            hint="At the margin the hinge has a corner: the value is 0, and the gradient of a clamp, relu, "
                 "torch.maximum or torch.where are all accepted there; away from it, the gradient is -y (for x1) "
                 "and y (for x2) where the pair costs something, and 0 elsewhere.")
def ranking_at_the_margin(t: CheckContext) -> None:
    # z = -y * (x1 - x2) + margin: 0, 0, 0.5, -0.5, 0, 1.5 with margin 0.5 (exact in binary)
    x1 = torch.tensor([1.5, 1.0, 1.0, 2.0, 0.25, -0.5], dtype=torch.float64)
    x2 = torch.tensor([1.0, 1.5, 1.0, 1.0, -0.25, 0.5], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0, 1.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    on_margin = (-y * (x1 - x2) + 0.5) == 0
    for reduction in REDUCTIONS:
        _expect_subgradients(t, RANKING, (x1, x2, y), on_margin, (0, 1), margin=0.5, reduction=reduction)
    _expect_subgradients(t, RANKING, (x1.float(), x2.float(), y.float()), on_margin, (0, 1), margin=0.5)


@checks.add("gradients through margin_ranking_loss, with respect to x1 and x2, match autograd through the "
            "reference", devices=True,
            hint="Build the loss from tensor operations on x1 and x2 (no .item(), .detach() or in-place edits of "
                 "the inputs); a pair that costs nothing has no gradient.")
def ranking_gradients(t: CheckContext) -> None:
    for dtype in DTYPES:
        x1, x2, y = t.randn(5, 3, dtype=dtype), t.randn(5, 3, dtype=dtype), _labels(t, 5, 3, dtype=dtype)
        _expect_gradients(t, RANKING, x1, x2, y, grad_wrt=(0, 1), margin=0.4)


@checks.add("margin_ranking_loss raises ValueError for an unknown reduction, and an error (RuntimeError, as "
            "torch, or ValueError) when x1, x2 and y differ in their number of dimensions",
            hint="Compare x1.dim(), x2.dim() and y.dim(), and reduction with the three names, before computing.")
def ranking_refusals(t: CheckContext) -> None:
    expect_refusal(t, RANKING, t.randn(4, 1), t.randn(4), _labels(t, 4), errors=("RuntimeError", "ValueError"),
                   why="Broadcasting (4, 1) against (4,) would score every pair against every label.",
                   returned="ex13.dims-not-checked")
    expect_refusal(t, RANKING, t.randn(4), t.randn(4), _labels(t, 4, 1), errors=("RuntimeError", "ValueError"),
                   why="Broadcasting (4,) against (4, 1) labels would score every pair against every label.",
                   returned="ex13.dims-not-checked")
    expect_refusal(t, RANKING, t.randn(3), t.randn(3), _labels(t, 3), reduction="average", errors=("ValueError",),
                   returned="ex13.reduction-not-checked")


# --- triplet_margin_loss ------------------------------------------------------------
@checks.add("triplet_margin_loss of the exercise's example: anchor [0, 0], positive [3, 4], negatives [6, 8] and "
            "[0, 3], p=2, eps=0, margin 1 cost [0, 3]",
            hint="d(anchor, positive) = 5; the negatives are 10 and 3 away. The loss is max(5 - d_negative + 1, 0), "
                 "with the plain Euclidean norm, not its square.")
def triplet_worked_example(t: CheckContext) -> None:
    anchor, positive = torch.tensor([[0.0, 0.0], [0.0, 0.0]]), torch.tensor([[3.0, 4.0], [3.0, 4.0]])
    negative = torch.tensor([[6.0, 8.0], [0.0, 3.0]])
    t.expect_close(TRIPLET, anchor, positive, negative, eps=0.0, reduction="none")
    t.expect_close(TRIPLET, anchor, positive, negative, eps=0.0)


@checks.add("triplet_margin_loss matches the reference for every reduction, margins 0.2, 1 and 3, with and "
            "without swap, in float32 and float64", devices=True,
            hint="d(x, y) = ||x - y + eps||_p along the last dimension, one distance per row; the loss of a row is "
                 "max(d(a, p) - d(a, n) + margin, 0), and 'mean' averages every row, those that cost 0 included.")
def triplet_reductions(t: CheckContext) -> None:
    for dtype in DTYPES:
        anchor, positive, negative = _triplets(t, 10, 6, dtype)
        for margin in (0.2, 1.0, 3.0):
            for reduction in REDUCTIONS:
                t.expect_close(TRIPLET, anchor, positive, negative, margin=margin, reduction=reduction)
        for reduction in REDUCTIONS:
            t.expect_close(TRIPLET, anchor, positive, negative, swap=True, reduction=reduction)


@checks.add("triplet_margin_loss uses the p-norm for p = 1, 1.5, 2 and 3", devices=True,
            hint="The p-norm of v is (sum |v_i|^p)^(1/p): every coordinate's absolute value to the power p, summed, "
                 "then the p-th root. Not its square, and not without the root.")
def triplet_norms(t: CheckContext) -> None:
    for dtype in DTYPES:
        anchor, positive, negative = _triplets(t, 8, 5, dtype)
        for p in (1.0, 1.5, 2.0, 3.0):
            t.expect_close(TRIPLET, anchor, positive, negative, p=p, reduction="none")
            t.expect_close(TRIPLET, anchor, positive, negative, p=p, swap=True)


@checks.add("triplet_margin_loss adds eps to every coordinate of x - y, before the norm (eps = 0.5 and 1e-6, "
            "float64), also for the swap distance ||positive - negative + eps||", devices=True,
            hint="eps goes inside: d(x, y) = ||x - y + eps||_p, added to the difference itself (in that order: "
                 "x - y + eps, not y - x + eps), not to the norm afterwards, and not left out.")
def triplet_eps(t: CheckContext) -> None:
    anchor, positive, negative = _triplets(t, 8, 4, torch.float64)
    for eps in (0.5, 1e-6):
        for p in (2.0, 1.0):
            t.expect_close(TRIPLET, anchor, positive, negative, eps=eps, p=p, reduction="none")
        t.expect_close(TRIPLET, anchor, positive, negative, eps=eps, swap=True, reduction="none")


@checks.add("triplet_margin_loss with swap measures the negative from the nearer of anchor and positive: "
            "min(d(a, n), d(p, n)), in float32 and float64", devices=True,
            hint="With swap=True, compute d(positive, negative) too and use the smaller of it and "
                 "d(anchor, negative) (torch.minimum); without swap, d(anchor, negative) alone.")
def triplet_swap(t: CheckContext) -> None:
    for dtype in DTYPES:
        anchor, positive, negative = _triplets(t, 12, 3, dtype)
        # negatives that lie beyond the positive, seen from the anchor: nearer to the positive
        negative[:6] = positive[:6] + 0.5 * (positive[:6] - anchor[:6])
        for swap in (True, False):
            t.expect_close(TRIPLET, anchor, positive, negative, swap=swap, reduction="none")
            t.expect_close(TRIPLET, anchor, positive, negative, swap=swap, margin=2.0)


@checks.add("triplet_margin_loss works for a single (D,) triplet (a 0-dim result), a batch of one, embeddings of "
            "one dimension and an empty batch (whose mean is nan, as torch's)", devices=True,
            hint="Take the norm along the last dimension (dim=-1), so that a (D,) triplet gives one distance and "
                 "an (N, D) batch N of them.")
def triplet_shapes(t: CheckContext) -> None:
    for n, d in ((1, 4), (5, 1), (0, 3)):
        anchor, positive, negative = _triplets(t, n, d)
        for reduction in REDUCTIONS:
            t.expect_close(TRIPLET, anchor, positive, negative, reduction=reduction)
    anchor, positive, negative = _triplets(t, 1, 6)
    for reduction in REDUCTIONS:
        t.expect_close(TRIPLET, anchor[0], positive[0], negative[0], reduction=reduction)
        t.expect_close(TRIPLET, anchor[0], positive[0], negative[0], swap=True, reduction=reduction)


@checks.add("gradients through triplet_margin_loss, with respect to anchor, positive and negative, match autograd "
            "through the reference, for p = 1, 2 and 3 and with swap", devices=True,
            hint="Build the loss from tensor operations on the three inputs (no .item(), .detach() or in-place "
                 "edits); a triplet that costs nothing has no gradient.")
def triplet_gradients(t: CheckContext) -> None:
    for dtype in DTYPES:
        anchor, positive, negative = _triplets(t, 6, 4, dtype)
        _expect_gradients(t, TRIPLET, anchor, positive, negative, grad_wrt=(0, 1, 2))
        for p in (1.0, 3.0):
            t.expect_close(TRIPLET, anchor, positive, negative, p=p, grad_wrt=(0, 1, 2))
        t.expect_close(TRIPLET, anchor, positive, negative, swap=True, margin=2.0, grad_wrt=(0, 1, 2))


@checks.add("triplet_margin_loss of an anchor equal to its positive is finite, and so is its gradient (eps keeps "
            "the norm off 0; gradients in float64)", devices=True,
            hint="The norm has no slope at 0: sqrt's derivative there is infinite, and 0 * inf is nan. With eps "
                 "added to x - y before the norm, d(x, x) = ||eps||, never 0.")
def triplet_identical_embeddings(t: CheckContext) -> None:
    for dtype in DTYPES:
        anchor, _, negative = _triplets(t, 5, 4, dtype)
        positive = anchor.clone()
        # Gradients in float64 only: in float32, eps = 1e-6 added to an anchor near 1 rounds by up to
        # 10%, so (anchor + eps) - positive, as right as anchor - positive + eps, points elsewhere.
        grad_wrt = (0, 1, 2) if dtype == torch.float64 else ()
        for p in (2.0, 3.0):
            t.expect_close(TRIPLET, anchor, positive, negative, p=p, margin=3.0, grad_wrt=grad_wrt)


@checks.add("triplet_margin_loss on the margin: triplets whose d(a, p) - d(a, n) + margin is exactly 0 cost 0, "
            "and their gradient may be any slope between relu's 0 and torch's 1", devices=True,
            hint="At the margin the hinge has a corner: the value is 0, and the gradient of a clamp, relu, "
                 "torch.maximum or torch.where are all accepted there.")
def triplet_at_the_margin(t: CheckContext) -> None:
    # d(a, p) = 1.25 (a 0.75-1 right triangle), d(a, n) = 2.5: margin 1.25 puts the first rows exactly on it
    anchor = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    positive = torch.tensor([[0.75, 1.0], [0.25, 2.0], [0.75, 1.0], [1.5, 2.0]], dtype=torch.float64)
    negative = torch.tensor([[1.5, 2.0], [-0.5, 3.0], [3.0, 4.0], [0.75, 1.0]], dtype=torch.float64)
    for p, margin in ((2.0, 1.25), (1.0, 1.75)):
        d_pos = (anchor - positive).abs().pow(p).sum(-1).pow(1 / p)
        d_neg = (anchor - negative).abs().pow(p).sum(-1).pow(1 / p)
        on_margin = (d_pos - d_neg + margin).abs() < 1e-12
        for reduction in REDUCTIONS:
            _expect_subgradients(t, TRIPLET, (anchor, positive, negative), on_margin, (0, 1, 2), margin=margin,
                                 p=p, eps=0.0, reduction=reduction)


@checks.add("triplet_margin_loss raises ValueError for an unknown reduction and for a margin of 0 or below (as "
            "torch), and an error (RuntimeError, as torch, or ValueError) when the three differ in their number "
            "of dimensions",
            hint="Validate before computing: the reduction's name, margin > 0, and anchor.dim() == positive.dim() "
                 "== negative.dim().")
def triplet_refusals(t: CheckContext) -> None:
    anchor, positive, negative = _triplets(t, 4, 3)
    expect_refusal(t, TRIPLET, anchor, positive[0], negative, errors=("RuntimeError", "ValueError"),
                   why="A (D,) positive against (N, D) anchors would be broadcast: one positive for every anchor.",
                   returned="ex13.dims-not-checked")
    for margin in (0.0, -1.0):
        expect_refusal(t, TRIPLET, anchor, positive, negative, margin=margin, errors=("ValueError",),
                       why="With a margin of 0 or below a triplet costs nothing as soon as the positive is no "
                           "farther than the negative: nothing pushes them apart.",
                       returned="ex13.margin-not-checked")
    expect_refusal(t, TRIPLET, anchor, positive, negative, reduction="average", errors=("ValueError",),
                   returned="ex13.reduction-not-checked")

"""Checks for exercise 04: `binary_cross_entropy` (probabilities) and
`binary_cross_entropy_with_logits` (logits, with `pos_weight`).

No gradient is compared where a probability is exactly 0 or 1 (the clamp makes the
gradient there a matter of convention). At a logit of exactly 0, the docstring's own
example, the loss is smooth and its slope is sigmoid(0) - y = 0.5 - y, as torch's; a
formula built on max(x, 0) or |x| whose autograd slope there is another number fails.
"""
from __future__ import annotations

from typing import Any

import torch

from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.checks.naming import expect_refusal

checks = Checks("ex04_bce")

REDUCTIONS = ("mean", "sum", "none")
LOW_PRECISION = (torch.float16, torch.bfloat16)  # results keep them: no upcast to float32
BCE = "binary_cross_entropy"
BCE_LOGITS = "binary_cross_entropy_with_logits"


def _what(dtype: torch.dtype) -> str:
    return f"The {str(dtype).removeprefix('torch.')} result"


def _probabilities(t: CheckContext, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return 0.02 + 0.96 * t.rand(*shape, dtype=dtype)


def _labels(t: CheckContext, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Hard 0/1 labels in the first half of the elements, soft labels in the rest."""
    hard = t.randint(2, *shape).to(dtype)
    soft = t.rand(*shape, dtype=dtype)
    first_half = torch.arange(hard.numel()).reshape(shape) < hard.numel() // 2
    return torch.where(first_half, hard, soft)


def _expect_gradients(t: CheckContext, function: str, x: torch.Tensor, y: torch.Tensor, **kwargs: Any) -> None:
    """Gradients for both arguments: 'mean' and 'sum', then 'none' under a random upstream gradient."""
    for reduction in ("mean", "sum"):
        t.expect_close(function, x, y, reduction=reduction, grad_wrt=(0, 1), **kwargs)
    upstream = t.randn(*x.shape, dtype=x.dtype)
    t.expect_close(function, x, y, reduction="none", grad_wrt=(0, 1), grad_output=upstream, **kwargs)


# --- binary_cross_entropy (probabilities) ------------------------------------------
@checks.add("binary_cross_entropy of probabilities [0.9, 0.2, 0.7] for labels [1, 0, 1] is "
            "[0.105, 0.223, 0.357], mean 0.228, as in the exercise",
            hint="A label of 1 pays -log(p), a label of 0 pays -log(1 - p); one formula with y and 1 - y "
                 "covers both (and soft labels in between).")
def bce_worked_example(t: CheckContext) -> None:
    p, y = torch.tensor([0.9, 0.2, 0.7]), torch.tensor([1.0, 0.0, 1.0])
    t.expect_close(BCE, p, y, reduction="none")
    t.expect_close(BCE, p, y)


@checks.add("binary_cross_entropy matches the reference for reduction='mean', 'sum' and 'none', with hard and "
            "soft labels, in float32 and float64, and keeps float16 and bfloat16", devices=True,
            hint="Compute one loss per element first; 'mean' divides by the number of elements. Soft labels "
                 "(such as 0.3) mix the two log terms, so do not pick a term with an if.")
def bce_reductions(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        p, y = _probabilities(t, 5, 3, dtype=dtype), _labels(t, 5, 3, dtype=dtype)
        for reduction in REDUCTIONS:
            t.expect_close(BCE, p, y, reduction=reduction)
    p = torch.tensor([1 - 1e-10, 1e-10, 0.5 + 1e-9], dtype=torch.float64)  # float32 rounds these away
    t.expect_close(BCE, p, torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64), reduction="none",
                   what="The float64 result")
    for dtype in LOW_PRECISION:
        p, y = _probabilities(t, 5, 3, dtype=dtype), _labels(t, 5, 3, dtype=dtype)
        for reduction in ("mean", "none"):
            t.expect_close(BCE, p, y, reduction=reduction, what=_what(dtype))


@checks.add("binary_cross_entropy works for every shape: a scalar, a batch of 1, a single (C,) sample, 2-D, 3-D "
            "and empty (whose mean is nan, as torch's)",
            hint="Everything is elementwise until the reduction, which runs over every element.")
def bce_shapes(t: CheckContext) -> None:
    for shape in [(2, 3, 4), (7,), (1, 4), (1,), (), (0,)]:
        p, y = _probabilities(t, *shape), t.rand(*shape)
        for reduction in REDUCTIONS:
            t.expect_close(BCE, p, y, reduction=reduction)


@checks.add("binary_cross_entropy clamps each log at -100 as torch does: p=0 with y=0 costs 0 (not nan), "
            "p=1 with y=0 costs 100, p=1e-30 with y=1 costs 69.08",
            hint="log(0) is -inf and 0 * -inf is nan. Clamp each log to at least -100 before it multiplies "
                 "its label; an epsilon added to p changes the values of confident predictions.")
def bce_clamp(t: CheckContext) -> None:
    p = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1e-30, 0.5])
    y = torch.tensor([0.0, 0.0, 1.0, 1.0, 0.5, 0.25, 1.0, 0.0])
    t.expect_close(BCE, p, y, reduction="none")
    t.expect_close(BCE, p, y, reduction="sum")
    p64 = torch.tensor([1e-50, 1e-30, 1.0 - 1e-12, 0.0], dtype=torch.float64)
    t.expect_close(BCE, p64, torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64), reduction="none")


@checks.add("gradients through binary_cross_entropy match autograd through the reference", devices=True,
            hint="Build the loss from tensor operations on `input` and `target` (no .item(), .detach() or "
                 "in-place edits of the inputs).")
def bce_gradients(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        p, y = _probabilities(t, 4, 3, dtype=dtype), _labels(t, 4, 3, dtype=dtype)
        _expect_gradients(t, BCE, p, y)


@checks.add("binary_cross_entropy raises ValueError for inputs outside [0, 1] (logits passed by mistake), and "
            "ValueError for different shapes or an unknown reduction",
            hint="Validate before computing: the reduction name, input.shape == target.shape, and every "
                 "input between 0 and 1.")
def bce_bad_arguments(t: CheckContext) -> None:
    why = "Values outside [0, 1] are not probabilities: they are probably logits, which need the _with_logits version."
    for p in ([-0.1, 0.5, 0.3], [0.5, 1.2, 0.3], [2.3, -1.0, 0.4]):
        expect_refusal(t, BCE, torch.tensor(p), torch.tensor([1.0, 0.0, 1.0]), errors=("ValueError",),
                       why=why, returned="ex04.range-not-checked",
                       other_type=("RuntimeError", "ex04.range-not-valueerror"))
    expect_refusal(t, BCE, _probabilities(t, 4, 1), t.rand(4), errors=("ValueError",),
                   why="Broadcasting (4, 1) against (4,) would score every prediction against every label.",
                   returned="ex04.shape-not-checked")
    expect_refusal(t, BCE, t.rand(3), t.rand(3), reduction="average", errors=("ValueError",),
                   returned="ex04.reduction-not-checked")


# --- binary_cross_entropy_with_logits ------------------------------------------------
@checks.add("binary_cross_entropy_with_logits of logits [2.0, -1.0, 0.0] for labels [1, 0, 1] is "
            "[0.127, 0.313, 0.693], as in the exercise",
            hint="The probability is sigmoid(x) = 1 / (1 + exp(-x)); the loss is the same as for "
                 "probabilities, but written in terms of x.")
def bce_logits_worked_example(t: CheckContext) -> None:
    x, y = torch.tensor([2.0, -1.0, 0.0]), torch.tensor([1.0, 0.0, 1.0])
    t.expect_close(BCE_LOGITS, x, y, reduction="none")
    t.expect_close(BCE_LOGITS, x, y)


@checks.add("binary_cross_entropy_with_logits matches the reference for every reduction and shape, with hard "
            "and soft labels (an empty tensor too), in float32 and float64, and keeps float16 and bfloat16", devices=True,
            hint="One loss per element, then the reduction over every element; soft labels mix both terms.")
def bce_logits_reductions(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        x, y = t.randn(5, 3, dtype=dtype, scale=3.0), _labels(t, 5, 3, dtype=dtype)
        for reduction in REDUCTIONS:
            t.expect_close(BCE_LOGITS, x, y, reduction=reduction)
    for shape in [(2, 3, 4), (7,), (1, 4), (1,), (), (0,)]:
        x, y = t.randn(*shape, scale=3.0), t.rand(*shape)
        for reduction in REDUCTIONS:
            t.expect_close(BCE_LOGITS, x, y, reduction=reduction)
    x64 = torch.tensor([1000.0, -1000.0, 3.0], dtype=torch.float64)
    y64 = torch.tensor([0.999999, 1e-6, 0.3], dtype=torch.float64)  # float32 cannot hold 1 - 1e-6 exactly
    t.expect_close(BCE_LOGITS, x64, y64, reduction="none", what="The float64 result")
    for dtype in LOW_PRECISION:
        x, y = t.randn(5, 3, dtype=dtype, scale=3.0), _labels(t, 5, 3, dtype=dtype)
        for reduction in ("mean", "none"):
            t.expect_close(BCE_LOGITS, x, y, reduction=reduction, what=_what(dtype))


@checks.add("binary_cross_entropy_with_logits is exact for logits of +-40, +-100 and +-1e4 (a logit of 1e4 with "
            "label 0 costs 1e4), with finite gradients", devices=True,
            hint="Never compute sigmoid(x) and then its log: sigmoid(40.0) is exactly 1.0 in float32. Write "
                 "log(sigmoid(x)) so that exp() only sees values <= 0. torch.where computes both branches, and "
                 "an inf in the branch it does not take still turns the gradient into nan.")
def bce_logits_stability(t: CheckContext) -> None:
    x = torch.tensor([1e4, -1e4, 40.0, -40.0, 1e4, -1e4, 100.0, -100.0])
    y = torch.tensor([0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.5, 0.5])
    for dtype in (torch.float32, torch.float64):
        t.expect_close(BCE_LOGITS, x.to(dtype), y.to(dtype), reduction="none", grad_wrt=(0, 1))
    t.expect_close(BCE_LOGITS, x, y, reduction="mean", grad_wrt=(0, 1))
    t.expect_close(BCE_LOGITS, x, y, reduction="none", pos_weight=torch.tensor([3.0]), grad_wrt=(0, 1))


@checks.add("binary_cross_entropy_with_logits weighs only the positive (y = 1) term by pos_weight, and a (C,) "
            "pos_weight weighs each of the C columns of an (N, C) input", devices=True,
            hint="pos_weight multiplies y * log(sigmoid(x)) and nothing else; it broadcasts against the input "
                 "like any tensor of shape (C,) against (N, C).")
def bce_logits_pos_weight(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        x, y = t.randn(5, 4, dtype=dtype, scale=2.0), _labels(t, 5, 4, dtype=dtype)
        pos_weight = torch.tensor([1.0, 3.0, 0.5, 2.0], dtype=dtype)
        for reduction in REDUCTIONS:
            t.expect_close(BCE_LOGITS, x, y, reduction=reduction, pos_weight=pos_weight, grad_wrt=(0, 1))
        t.expect_close(BCE_LOGITS, x, y, pos_weight=torch.tensor([2.5], dtype=dtype), grad_wrt=(0, 1))


@checks.add("gradients through binary_cross_entropy_with_logits match autograd through the reference, "
            "at logits of exactly 0 too (the exercise's example [2.0, -1.0, 0.0])", devices=True,
            hint="Build the loss from tensor operations on `input` and `target` (no .item(), .detach() or "
                 "in-place edits of the inputs); the gradient of the mean is (sigmoid(x) - y) / n, also at "
                 "x = 0, where it is 0.5 - y: max(x, 0), relu and |x| have a kink there, and autograd takes one "
                 "side of it. An elementwise minimum or maximum of two tensors shares the slope between both sides.")
def bce_logits_gradients(t: CheckContext) -> None:
    x, y = torch.tensor([2.0, -1.0, 0.0, 0.0, 0.0]), torch.tensor([1.0, 0.0, 1.0, 0.0, 0.3])
    t.expect_close(BCE_LOGITS, x, y, reduction="none", grad_wrt=(0, 1), what="The loss at a logit of 0")
    for dtype in (torch.float32, torch.float64):
        x, y = t.randn(4, 3, dtype=dtype, scale=3.0), _labels(t, 4, 3, dtype=dtype)
        _expect_gradients(t, BCE_LOGITS, x, y)
    x = torch.tensor([[0.0, 1.5, -2.0], [0.0, 0.0, 0.7]], dtype=torch.float64)
    _expect_gradients(t, BCE_LOGITS, x, torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.25, 1.0]], dtype=torch.float64))
    _expect_gradients(t, BCE_LOGITS, x, torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.25, 1.0]], dtype=torch.float64),
                      pos_weight=torch.tensor([2.0, 0.5, 1.0], dtype=torch.float64))


@checks.add("binary_cross_entropy_with_logits raises ValueError for different shapes or an unknown reduction",
            hint="Compare input.shape with target.shape, and reduction with the three names, before computing.")
def bce_logits_bad_arguments(t: CheckContext) -> None:
    expect_refusal(t, BCE_LOGITS, t.randn(4, 1), t.rand(4), errors=("ValueError",),
                   why="Broadcasting (4, 1) against (4,) would score every prediction against every label.",
                   returned="ex04.shape-not-checked")
    expect_refusal(t, BCE_LOGITS, t.randn(3), t.rand(3), reduction="average", errors=("ValueError",),
                   returned="ex04.reduction-not-checked")

"""Checks for exercise 10: `kl_div` (torch's argument order and reductions) and the
distillation loss, written with the public instructor API only.

The cases inside each check come in an order that lets a plausible wrong implementation
fail (and be named) on its own case first: positive targets and reduction='none' before
targets with zeros, N differing from C so that 'batchmean' and 'mean' and a division by
the wrong dimension all differ, temperatures other than 1 so that T and T² differ.
"""
from __future__ import annotations

from typing import Any

import torch

from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.checks.naming import expect_refusal

checks = Checks("ex10_kl_divergence")

KL = "kl_div"
KD = "distillation_loss"
REDUCTIONS = ("none", "sum", "batchmean", "mean")
HALF = (torch.float16, torch.bfloat16)


def _log_probs(t: CheckContext, *shape: int, dtype: torch.dtype = torch.float32, scale: float = 1.5) -> torch.Tensor:
    """A model's log-probabilities along the last dimension (all <= 0)."""
    return torch.log_softmax(t.randn(*shape, dtype=torch.float64, scale=scale), dim=-1).to(dtype)


def _probs(t: CheckContext, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Soft target probabilities along the last dimension, every one > 0."""
    return torch.softmax(t.randn(*shape, dtype=torch.float64, scale=1.5), dim=-1).to(dtype)


def _with_zeros(t: CheckContext, rows: int, classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Probabilities with exact zeros: a one-hot row, then rows that rule out some classes."""
    p = torch.softmax(t.randn(rows, classes, dtype=torch.float64, scale=1.5), dim=-1)
    p = p.masked_fill(t.rand(rows, classes) < 0.4, 0.0)
    p[:, 0] += 1e-3  # every row keeps some mass
    p = p / p.sum(-1, keepdim=True)
    p[0] = 0.0
    p[0, classes - 1] = 1.0
    return p.to(dtype)


def _every_reduction(t: CheckContext, input: torch.Tensor, target: torch.Tensor, grad_wrt: tuple[int, ...] = (0,),
                     **kwargs: Any) -> None:
    for reduction in REDUCTIONS:
        upstream = t.randn(*input.shape, dtype=input.dtype) if reduction == "none" else None
        t.expect_close(KL, input, target, reduction=reduction, grad_wrt=grad_wrt, grad_output=upstream, **kwargs)


# --- kl_div ----------------------------------------------------------------------------------
@checks.add("kl_div gives the worked example: terms [0.2355, -0.0811, -0.0693], KL 0.0851 ('batchmean' and "
            "'sum'), 0.0284 for 'mean'; and the two-sample batch: 1.4714, 0.7357, 0.2452",
            hint="input holds log q, target holds p: each term is p * (log p - input). 'batchmean' divides the "
                 "sum by input.shape[0], 'mean' by every element.")
def worked_example(t: CheckContext) -> None:
    q = torch.tensor([[0.5, 0.3, 0.2]]).log()
    p = torch.tensor([[0.7, 0.2, 0.1]])
    for reduction in REDUCTIONS:
        t.expect_close(KL, q, p, reduction=reduction)
    q2 = torch.tensor([[0.5, 0.3, 0.2], [0.25, 0.25, 0.5]]).log()
    p2 = torch.tensor([[0.7, 0.2, 0.1], [1.0, 0.0, 0.0]])
    for reduction in ("sum", "batchmean", "mean", "none"):
        t.expect_close(KL, q2, p2, reduction=reduction)


@checks.add("kl_div's elementwise terms (reduction='none') are target * (log target - input), with the "
            "gradients for the input and the target, in float32 and float64", devices=True,
            hint="Only the target is a probability; the input is already a log. The result has the input's "
                 "shape.")
def terms(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        input, target = _log_probs(t, 4, 5, dtype=dtype), _probs(t, 4, 5, dtype=dtype)
        t.expect_close(KL, input, target, reduction="none", grad_wrt=(0, 1),
                       grad_output=t.randn(4, 5, dtype=dtype))


@checks.add("kl_div's reductions: 'sum' adds every term, 'batchmean' divides by input.shape[0], 'mean' by "
            "every element (as torch, which warns), for (N, C) and (N, C, d) inputs and a batch of one",
            devices=True,
            hint="'batchmean' is the mathematical KL averaged over the batch: the sum over everything divided by "
                 "the size of dimension 0 only.")
def reductions(t: CheckContext) -> None:
    _every_reduction(t, _log_probs(t, 4, 5), _probs(t, 4, 5))
    _every_reduction(t, _log_probs(t, 2, 3, 4), _probs(t, 2, 3, 4))
    _every_reduction(t, _log_probs(t, 1, 6), _probs(t, 1, 6))
    _every_reduction(t, _log_probs(t, 5), _probs(t, 5))


@checks.add("a target of exactly 0 contributes 0 (not nan), for one-hot targets and targets that rule out "
            "classes, with the input's gradient, even where the input is -1e4 (and a positive target there costs "
            "its full price)", devices=True,
            hint="p log p tends to 0 as p tends to 0, but 0 * log(0) is 0 * -inf = nan in floating point: use "
                 "torch.xlogy(target, target), or torch.where on target > 0.")
def zero_targets(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        _every_reduction(t, _log_probs(t, 5, 4, dtype=dtype), _with_zeros(t, 5, 4, dtype=dtype))
    input = torch.log_softmax(torch.tensor([[0.0, -1e4, 3.0], [2.0, 1.0, -1e4]]), dim=-1)
    t.expect_close(KL, input, torch.tensor([[0.5, 0.0, 0.5], [1.0, 0.0, 0.0]]), reduction="none", grad_wrt=(0,),
                   grad_output=t.randn(2, 3))
    t.expect_close(KL, input, torch.tensor([[0.5, 0.0, 0.5], [1.0, 0.0, 0.0]]), reduction="batchmean")
    # and a target that is NOT 0 where the input is -1e4 costs what it costs (no clamp of the input)
    t.expect_close(KL, input, torch.tensor([[0.25, 0.25, 0.5], [0.5, 0.0, 0.5]]), reduction="none")


@checks.add("with log_target=True the target holds log-probabilities: each term is exp(target) * "
            "(target - input), for every reduction, with both gradients", devices=True,
            hint="The probability is exp(target) and its log is the target itself: no log of a log.")
def log_target(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        input, target = _log_probs(t, 4, 5, dtype=dtype), _log_probs(t, 4, 5, dtype=dtype)
        t.expect_close(KL, input, target.exp(), reduction="none")  # the same pair, as probabilities
        _every_reduction(t, input, target, grad_wrt=(0, 1), log_target=True)


@checks.add("kl_div keeps the input's dtype (float16, bfloat16, float64 with its precision) and handles an "
            "empty batch (nan for 'mean' and 'batchmean', 0 for 'sum') and a 0-d input ('batchmean' is the "
            "sum)", devices=True,
            hint="Create nothing in float32 on the way; divide by the sizes as they are, so that 0 / 0 gives nan "
                 "by itself.")
def dtypes_and_edges(t: CheckContext) -> None:
    for dtype in HALF:
        input, target = _log_probs(t, 3, 4, dtype=dtype), _probs(t, 3, 4, dtype=dtype)
        for reduction in ("none", "batchmean"):
            t.expect_close(KL, input, target, reduction=reduction, what=f"The {str(dtype)[6:]} result")
    near = -1.0 + t.randn(2, 3, dtype=torch.float64, scale=1e-9)  # gaps that float32 cannot hold
    t.expect_close(KL, near, _probs(t, 2, 3, dtype=torch.float64), reduction="none", what="The float64 result")
    empty = torch.zeros(0, 4)
    for reduction in REDUCTIONS:
        t.expect_close(KL, empty, empty.clone(), reduction=reduction)
    t.expect_close(KL, torch.tensor(-0.5), torch.tensor(0.25), reduction="batchmean", grad_wrt=(0,))


@checks.add("kl_div raises ValueError for an unknown reduction ('average', 'batch_mean', 'MEAN')",
            hint="Compare reduction with the four names before computing anything.")
def bad_reduction(t: CheckContext) -> None:
    input, target = _log_probs(t, 3, 4), _probs(t, 3, 4)
    for reduction in ("average", "batch_mean", "MEAN"):
        expect_refusal(t, KL, input, target, reduction=reduction, errors=("ValueError",),
                       why="A mistyped reduction must stop the program, not pick another one.",
                       returned="ex10.reduction-not-checked")


# --- distillation_loss ---------------------------------------------------------------------
@checks.add("distillation_loss gives the worked example: 0.0790 at T = 1, 0.1124 at T = 2, 0.1137 at T = 4",
            hint="Divide both the student's and the teacher's logits by T; the student gives kl_div's input "
                 "(log_softmax), the teacher its target (softmax); then multiply by T ** 2.")
def distillation_worked_example(t: CheckContext) -> None:
    student, teacher = torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([[3.0, 1.0, 0.2]])
    for temperature in (2.0, 4.0, 1.0):
        t.expect_close(KD, student, teacher, temperature, grad_wrt=(0,))


@checks.add("distillation_loss matches T² * KL(teacher || student) averaged over the batch, with the "
            "student's gradient, for temperatures 0.5 to 8, in float32 and float64", devices=True,
            hint="'batchmean', not 'mean': the sum divided by the number of samples, not by the number of "
                 "logits. The gradient for the student stays about the same size for every T thanks to T².")
def distillation_batches(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        student, teacher = t.randn(6, 5, dtype=dtype, scale=2.0), t.randn(6, 5, dtype=dtype, scale=2.0)
        for temperature in (2.0, 0.5, 8.0, 1.0):
            t.expect_close(KD, student, teacher, temperature, grad_wrt=(0,))
    t.expect_close(KD, t.randn(1, 7, scale=2.0), t.randn(1, 7, scale=2.0), 3, grad_wrt=(0,))


@checks.add("distillation_loss is exact for logits as large as 1e4 (no inf, no nan), with the student's "
            "gradient in float64", devices=True,
            hint="log(softmax(x)) is -inf for a class whose probability rounds to 0: use log_softmax.")
def distillation_stability(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        student = torch.tensor([[1e4, -1e4, 0.0], [5e3, 5e3, -5e3]], dtype=dtype)
        teacher = torch.tensor([[0.0, 2.0, 1.0], [-3.0, 1.0, 2.0]], dtype=dtype)
        for temperature in (1.0, 4.0):
            # float32 cannot hold the gradient's small terms at this scale to a check's tolerance
            # in every correct formulation (logsumexp's backward rounds them differently)
            t.expect_close(KD, student, teacher, temperature, grad_wrt=(0,) if dtype == torch.float64 else ())


@checks.add("distillation_loss raises ValueError for a temperature of 0 or below",
            hint="Check temperature > 0 first: logits / 0 is inf or nan, and a negative T turns the "
                 "distributions upside down.")
def distillation_bad_temperature(t: CheckContext) -> None:
    student, teacher = t.randn(3, 4), t.randn(3, 4)
    for temperature in (0.0, -2.0):
        expect_refusal(t, KD, student, teacher, temperature, errors=("ValueError",),
                       why="A temperature must be positive.", returned="ex10.temperature-not-checked")

"""Checks for exercise 12: `info_nce`, CLIP's symmetric contrastive loss.

Written with the instructor API alone (`lossgrade.checks.framework`, `.naming`), as a course
folder's checks would be.

What each input is for:
- random (N, D) pairs whose rows have very different lengths: a loss that skips the
  normalisation, or normalises the whole matrix or its columns, sees other logits;
- N != D, both ways round, and batches of one and two: a softmax over the wrong dimension
  or labels that are not the diagonal give other numbers (a batch of one costs exactly 0);
- partners that are nearly aligned, orthogonal and opposite, at temperatures down to 0.005
  (0.001 in float64): logits of +-200 overflow a bare exp() and underflow a softmax taken
  before its log, while the loss itself stays an ordinary number.

Gradients are compared in float64 at small temperatures: in float32 two correct orders of
the same sums differ there by more than float32's tolerance (the logits are 1 / T times
larger than the cosines), and a check must not fail a correct loss.
"""
from __future__ import annotations

import torch

from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.checks.naming import expect_refusal

checks = Checks("ex12_infonce")

INFO_NCE = "info_nce"
DTYPES = (torch.float32, torch.float64)


def _pairs(t: CheckContext, n: int, d: int, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) embeddings and partners that resemble them, rows of lengths from 0.1 to 10."""
    a = t.randn(n, d, dtype=torch.float64)
    b = a + t.randn(n, d, dtype=torch.float64, scale=0.8)
    lengths_a = 10.0 ** (2 * t.rand(n, 1, dtype=torch.float64) - 1)
    lengths_b = 10.0 ** (2 * t.rand(n, 1, dtype=torch.float64) - 1)
    return (a * lengths_a).to(dtype), (b * lengths_b).to(dtype)


def _sharp_pairs(t: CheckContext, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Six pairs: four nearly aligned, one orthogonal, one opposite (cosines near 1, 0, -1),
    with decoys around them, so small temperatures make logits far apart both ways."""
    a = t.randn(6, 8, dtype=torch.float64)
    b = a + t.randn(6, 8, dtype=torch.float64, scale=0.05)
    b[4] = a[4] - (a[4] @ b[4]) / (a[4] @ a[4]) * a[4]  # orthogonal to its partner
    b[5] = -a[5]  # opposite: the partner is the worst match in its row
    return a.to(dtype), b.to(dtype)


@checks.add("info_nce of a = [[3, 4], [1, 0]] and b = [[0.6, 0.8], [0, 2]] at temperature 0.5 is 1.033, "
            "as in the exercise",
            hint="Normalise each row first: [3, 4] becomes [0.6, 0.8]. Then S = a @ b.T / 0.5 is "
                 "[[2.0, 1.6], [1.2, 0.0]]; the labels are the diagonal, and the loss averages the "
                 "cross-entropy over the rows (0.988) and over the columns (1.078).")
def worked_example(t: CheckContext) -> None:
    a, b = torch.tensor([[3.0, 4.0], [1.0, 0.0]]), torch.tensor([[0.6, 0.8], [0.0, 2.0]])
    t.expect_close(INFO_NCE, a, b, temperature=0.5)
    t.expect_close(INFO_NCE, a, b)  # CLIP's 0.07


@checks.add("info_nce matches the reference on random pairs of every length, N < D and N > D, at temperatures "
            "0.07, 0.3 and 1, in float32 and float64", devices=True,
            hint="Only the directions of the rows count: normalise each row to length 1 (dim=1), not the "
                 "whole matrix and not its columns. Row i of S is an N-way classification whose answer is i; "
                 "so is column i, and the loss is the mean of the two directions.")
def matches_reference(t: CheckContext) -> None:
    for dtype in DTYPES:
        for n, d in ((8, 5), (5, 16), (3, 3)):
            a, b = _pairs(t, n, d, dtype)
            for temperature in (0.07, 0.3, 1.0):
                t.expect_close(INFO_NCE, a, b, temperature=temperature)


@checks.add("info_nce of a batch of one pair is 0 (its only candidate is its partner), and of two pairs matches "
            "the reference, for embeddings of 1 and of 64 dimensions", devices=True,
            hint="With one pair, S is 1x1 and each softmax has a single entry: its probability is 1, its loss 0.")
def small_batches(t: CheckContext) -> None:
    for n, d in ((1, 4), (2, 4), (2, 1), (4, 1), (1, 64), (2, 64)):
        a, b = _pairs(t, n, d)
        t.expect_close(INFO_NCE, a, b)
        t.expect_close(INFO_NCE, a, b, temperature=0.2)


@checks.add("info_nce is exact for small temperatures: 0.01 (CLIP's smallest) and 0.005 in float32, 0.001 in "
            "float64, with partners aligned, orthogonal and opposite (logits of +-200)", devices=True,
            hint="Logits are cosines divided by the temperature: at 0.005 they reach 200, and exp(200.0) is "
                 "inf in float32. Never exponentiate a logit on its own, and never take the log of a softmax: "
                 "use logsumexp(row) - row[i], or subtract each row's maximum first.")
def small_temperatures(t: CheckContext) -> None:
    a, b = _sharp_pairs(t, torch.float32)
    for temperature in (0.01, 0.005):
        t.expect_close(INFO_NCE, a, b, temperature=temperature)
    a64, b64 = _sharp_pairs(t, torch.float64)
    for temperature in (0.01, 0.001):
        t.expect_close(INFO_NCE, a64, b64, temperature=temperature, grad_wrt=(0, 1))


@checks.add("gradients through info_nce, with respect to both a and b, match autograd through the reference "
            "(float32 at temperatures 0.07 and 1, float64 at 0.02)", devices=True,
            hint="Build the loss from tensor operations on a and b (no .item(), .detach(), .numpy() or in-place "
                 "edits of the inputs): both encoders learn from it.")
def gradients(t: CheckContext) -> None:
    a, b = _pairs(t, 6, 4)
    for temperature in (0.07, 1.0):
        t.expect_close(INFO_NCE, a, b, temperature=temperature, grad_wrt=(0, 1))
    a64, b64 = _pairs(t, 5, 7, torch.float64)
    t.expect_close(INFO_NCE, a64, b64, temperature=0.02, grad_wrt=(0, 1))


@checks.add("info_nce raises ValueError for a and b of different shapes, for inputs that are not 2-D, and for a "
            "temperature of 0 or below",
            hint="Validate before computing: a.dim() == 2, a.shape == b.shape (each row of a needs its partner "
                 "in b), temperature > 0.")
def refusals(t: CheckContext) -> None:
    why = "Each row of a needs its partner in the same row of b: the labels are the diagonal."
    expect_refusal(t, INFO_NCE, t.randn(4, 3), t.randn(5, 3), errors=("ValueError",), why=why)
    expect_refusal(t, INFO_NCE, t.randn(4, 3), t.randn(4, 5), errors=("ValueError",), why=why)
    expect_refusal(t, INFO_NCE, t.randn(3), t.randn(3), errors=("ValueError",),
                   why="A 1-D tensor is one embedding, not a batch of (N, D) embeddings.")
    for temperature in (0.0, -0.07):
        expect_refusal(t, INFO_NCE, t.randn(4, 3), t.randn(4, 3), temperature=temperature, errors=("ValueError",),
                       why="A temperature of 0 divides by zero, and a negative one reverses every similarity.",
                       returned="ex12.temperature-not-checked")

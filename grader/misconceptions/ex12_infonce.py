"""Mistakes learners make writing CLIP's InfoNCE loss.

The wrong implementations run in the trusted process, so they may use torch's own
cross-entropy and normalize; each reproduces one mistake and is otherwise right. Written
with the instructor API alone (`lossgrade.misconceptions`).
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import (Evidence, Mistake, behaves_like, detached, inplace_breaks_backward, inputs_modified,
                                     python_number)

QUIZ = "embedding-losses"


def _normalized(x: torch.Tensor) -> torch.Tensor:
    return F.normalize(x, dim=1)


def _logits(a: torch.Tensor, b: torch.Tensor, temperature: float,
            normalize: Callable[[torch.Tensor], torch.Tensor] = _normalized) -> torch.Tensor:
    return normalize(a) @ normalize(b).T / temperature


def _ce(logits: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    labels = torch.arange(len(logits), device=logits.device) if labels is None else labels
    return F.cross_entropy(logits, labels)


def _symmetric(logits: torch.Tensor) -> torch.Tensor:
    return (_ce(logits) + _ce(logits.T)) / 2


def _right(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    return _symmetric(_logits(a, b, temperature))


# --- the similarity matrix
def _not_normalized(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    return _symmetric(_logits(a, b, temperature, normalize=lambda x: x))


def _whole_matrix_normalized(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    return _symmetric(_logits(a, b, temperature, normalize=lambda x: x / x.norm()))


def _columns_normalized(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    return _symmetric(_logits(a, b, temperature, normalize=lambda x: F.normalize(x, dim=0)))


def _temperature_multiplies(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    return _symmetric(_logits(a, b, 1.0) * temperature)


def _temperature_ignored(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    return _symmetric(_logits(a, b, 1.0))


# --- the cross-entropy over the matrix
def _rows_only(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    return _ce(_logits(a, b, temperature))


def _columns_only(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    return _ce(_logits(a, b, temperature).T)


def _one_direction(evidence: Evidence) -> bool:
    """The learner's loss is the cross-entropy of the rows alone, or of the columns alone."""
    got, expected = evidence.got, evidence.expected
    if expected is None:
        return False
    for one_way in (_rows_only, _columns_only):
        wrong = one_way(*evidence.args, **evidence.kwargs).to(got.dtype)
        if behaves_like(got, wrong, expected) and not behaves_like(expected.to(got.dtype), wrong):
            return True
    return False


def _directions_added(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    logits = _logits(a, b, temperature)
    return _ce(logits) + _ce(logits.T)


def _labels_zero(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    logits = _logits(a, b, temperature)
    zeros = torch.zeros(len(logits), dtype=torch.long, device=logits.device)
    return (_ce(logits, zeros) + _ce(logits.T, zeros)) / 2


def _softmax_over_everything(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    logits = _logits(a, b, temperature)
    return -torch.log_softmax(logits.flatten(), dim=0).view_as(logits).diagonal().mean()


def _positive_excluded(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    """-log(exp(s_ii) / sum over j != i of exp(s_ij)): the positive left out of the denominator."""
    logits = _logits(a, b, temperature)
    eye = torch.eye(len(logits), dtype=torch.bool, device=logits.device)

    def one_way(s: torch.Tensor) -> torch.Tensor:
        return (torch.logsumexp(s.masked_fill(eye, float("-inf")), dim=1) - s.diagonal()).mean()

    return (one_way(logits) + one_way(logits.T)) / 2


# --- numerics
def _naive_exp(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    logits = _logits(a, b, temperature)

    def one_way(s: torch.Tensor) -> torch.Tensor:
        e = torch.exp(s)
        return -torch.log(e.diagonal() / e.sum(dim=1)).mean()

    return (one_way(logits) + one_way(logits.T)) / 2


def _log_of_softmax(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    logits = _logits(a, b, temperature)

    def one_way(s: torch.Tensor) -> torch.Tensor:
        return -torch.log(torch.softmax(s, dim=1).diagonal()).mean()

    return (one_way(logits) + one_way(logits.T)) / 2


# --- validation and dtype
def _temperature_unchecked(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    if a.dim() != 2 or a.shape != b.shape:
        raise ValueError(f"a {tuple(a.shape)} and b {tuple(b.shape)}")
    return _right(a, b, temperature)


def _float32_result(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    return _right(a.float(), b.float(), temperature)


def _other_dtype(evidence: Evidence) -> bool:
    """The right value in another floating dtype than the inputs' (float32 for float64)."""
    got, expected = evidence.got, evidence.expected
    if expected is None or got.dtype == expected.dtype or not got.is_floating_point():
        return False
    return bool(torch.allclose(got.double(), expected.double(), rtol=1e-4, atol=1e-5))


MISCONCEPTIONS = [
    Mistake(
        id="ex12.not-normalized", function="info_nce",
        name="Did not L2-normalise the rows: dot products, not cosine similarities",
        message="Your loss uses a @ b.T as it comes, so the lengths of the embeddings decide the logits: a row "
                "ten times longer makes its logits ten times larger. CLIP compares directions only: divide each "
                "row by its own L2 norm (dim=1) first, so every similarity is a cosine in [-1, 1] before the "
                "temperature scales it.",
        quiz=f"{QUIZ}#normalise-the-rows",
        wrong=_not_normalized,
    ),
    Mistake(
        id="ex12.normalized-whole-matrix", function="info_nce",
        name="Divided the whole matrix by one norm instead of each row by its own",
        message="Your loss divides a (and b) by a single number, the norm of the whole matrix, so the rows keep "
                "their different lengths and the similarities are not cosines. Each row is one embedding: "
                "normalise along dim=1, with keepdim=True so that each row is divided by its own length.",
        quiz=f"{QUIZ}#normalise-the-rows",
        wrong=_whole_matrix_normalized,
    ),
    Mistake(
        id="ex12.normalized-columns", function="info_nce",
        name="Normalised the columns (dim=0) instead of the rows",
        message="Your loss normalises each column of a and b, that is each feature across the batch, instead of "
                "each row, the embedding of one example. The rows then do not have length 1 and a @ b.T is no "
                "cosine similarity. Normalise along dim=1.",
        quiz=f"{QUIZ}#normalise-the-rows",
        wrong=_columns_normalized,
    ),
    Mistake(
        id="ex12.temperature-multiplies", function="info_nce",
        name="Multiplied the similarities by the temperature instead of dividing",
        message="Your logits are the cosines times the temperature: at 0.07 every logit lies in [-0.07, 0.07] "
                "and the softmax stays nearly uniform, so the loss hardly moves however good the model is. The "
                "temperature divides: S = cos / T, logits in [-1/T, 1/T].",
        quiz=f"{QUIZ}#temperature-divides",
        wrong=_temperature_multiplies,
    ),
    Mistake(
        id="ex12.temperature-ignored", function="info_nce",
        name="Left the temperature out (or applied it before normalising, where it cancels)",
        message="Your loss is the same whatever the temperature: the logits are the plain cosines. Either the "
                "temperature is never used, or it scales a and b before the rows are normalised, and the "
                "normalisation divides it away. Divide the cosine similarities by the temperature.",
        quiz=f"{QUIZ}#temperature-divides",
        wrong=_temperature_ignored,
    ),
    Mistake(
        id="ex12.one-direction", function="info_nce",
        name="Took the cross-entropy in one direction only (rows, or columns), not the mean of both",
        message="Your loss is the cross-entropy over the rows of S alone (each a picks its b), or over the "
                "columns alone. CLIP's loss is symmetric: it also asks each b to pick its a, which is the "
                "cross-entropy over the rows of S.T with the same labels, and it averages the two. A softmax "
                "taken along the same dimension for both terms gives one direction twice.",
        quiz=f"{QUIZ}#both-directions",
        wrong=_rows_only,
        matches=_one_direction,
    ),
    Mistake(
        id="ex12.directions-added", function="info_nce",
        name="Added the two directions instead of averaging them",
        message="Your loss is the cross-entropy over the rows plus the one over the columns: twice CLIP's. It "
                "trains the same way at a doubled learning rate, but its values are not comparable with anyone "
                "else's (chance level is 2 ln N instead of ln N). Divide the sum by 2.",
        quiz=f"{QUIZ}#chance-level",
        wrong=_directions_added,
    ),
    Mistake(
        id="ex12.labels-zero", function="info_nce",
        name="Used labels of 0 for every row (MoCo's layout) instead of the diagonal",
        message="Your loss treats column 0 as the right answer of every row, as in MoCo, where each row is built "
                "as [positive, negatives...]. In CLIP's matrix the partner of row i is column i: the labels are "
                "0, 1, ..., N - 1 (torch.arange(N)), the diagonal.",
        quiz=f"{QUIZ}#labels-are-the-diagonal",
        wrong=_labels_zero,
    ),
    Mistake(
        id="ex12.softmax-over-everything", function="info_nce",
        name="Took one softmax over all N x N entries instead of one per row and per column",
        message="Your loss normalises the whole matrix at once, so each pair competes with every other pair of "
                "the batch. Each row is a separate N-way question (which b belongs to this a?), and so is each "
                "column: the softmax runs along one dimension, dim=1 for S and for S.T.",
        quiz=f"{QUIZ}#both-directions",
        wrong=_softmax_over_everything,
    ),
    Mistake(
        id="ex12.positive-excluded", function="info_nce",
        name="Left the positive out of the softmax's denominator",
        message="Your loss divides exp(s_ii) by the sum over the other columns only. Cross-entropy's denominator "
                "runs over every candidate, the right one included, so that the loss is -log of a probability: "
                "never below 0, and 0 only when the positive takes all the mass. Without it the loss can go "
                "below 0 and keeps pushing matched pairs apart from nothing.",
        quiz=f"{QUIZ}#labels-are-the-diagonal",
        wrong=_positive_excluded,
    ),
    Mistake(
        id="ex12.naive-exp", function="info_nce",
        name="Exponentiated the logits directly: nan once the temperature is small",
        message="Your loss is nan at small temperatures: the logits are cosines divided by T, so at CLIP's "
                "smallest temperature, 0.01, they reach 100, and exp(100.0) is inf in float32; inf / inf is "
                "nan. Subtract each row's maximum before exp(), or write each term as logsumexp(row) - row[i].",
        quiz=f"{QUIZ}#small-temperature-overflow",
        wrong=_naive_exp,
    ),
    Mistake(
        id="ex12.log-of-softmax", function="info_nce",
        name="Took the log of a softmax: inf when a partner's probability underflows",
        message="Your loss is inf at small temperatures although the right value is an ordinary number: where "
                "a pair's logit lies far below its row's maximum (an opposite partner at T = 0.005 is 400 "
                "below), its softmax probability underflows to 0 and log(0) is -inf. Work with "
                "log-probabilities throughout: logsumexp(row) - row[i] never takes the log of a rounded 0.",
        quiz=f"{QUIZ}#small-temperature-overflow",
        wrong=_log_of_softmax,
    ),
    Mistake(
        id="ex12.temperature-not-checked", function="info_nce",
        name="Did not refuse a temperature of 0 or below",
        message="Given temperature 0 (or -0.07) your function returned a value: nan from a division by zero, "
                "or a loss whose similarities are all reversed, so the model learns to push partners apart. "
                "Check temperature > 0 first and raise ValueError.",
        quiz=f"{QUIZ}#temperature-divides",
        wrong=_temperature_unchecked,
    ),
    Mistake(
        id="ex12.float32-result", function="info_nce",
        name="Returned float32 for float64 embeddings",
        message="Your values are right, but the result is float32 where the embeddings were float64: somewhere "
                "a .float(), a float32 tensor you created, or a trip through numpy converted it. A loss keeps "
                "its inputs' dtype; if you compute in another precision, convert back with .to(a.dtype).",
        quiz="targets#target-dtype",
        wrong=_float32_result,
        matches=_other_dtype,
    ),
    python_number("ex12", "info_nce", _right),
    detached("ex12", "info_nce", _right),
    inputs_modified("ex12", "info_nce", _right),
    inplace_breaks_backward("ex12", "info_nce", _right),
]

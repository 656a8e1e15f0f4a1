"""Checks for exercise 11: cross-entropy over padded (N, T, C) sequences, per token and per
sequence, and the targets of next-token prediction; written with the public instructor API.

N, T and C always differ, so that normalising over the wrong dimension or shifting along
the wrong one shows; sequences have different numbers of real tokens, so that the mean
per token and the mean per sequence differ; the per-token call of a case comes before its
per-sequence call, so that a mistake the first rules out is not named for the second.
"""
from __future__ import annotations

from typing import Any

import torch

from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.checks.naming import expect_refusal, expect_shapes_named, names_value

checks = Checks("ex11_sequence_ce")

CE = "sequence_cross_entropy"
NEXT = "next_token_targets"
PER = ("token", "sequence")


def _padded(t: CheckContext, lengths: list[int], steps: int, classes: int, pad: int = -100) -> torch.Tensor:
    """(N, T) class indices, sequence n real for its first lengths[n] positions, then `pad`;
    the real targets avoid `pad` when it is a class, and, whatever the draw, each class that
    is not `pad` is the target of a real token where there are enough of them (class 0 as
    padding, a class left out: such a mistake fails under every grading secret)."""
    targets = t.randint(classes, len(lengths), steps)
    real = [(n, step) for n, length in enumerate(lengths) for step in range(min(length, steps))]
    for (n, step), label in zip(real, [c for c in range(classes) if c != pad], strict=False):
        targets[n, step] = label
    if 0 <= pad < classes:
        targets = torch.where(targets == pad, (targets + 1) % classes, targets)
    for n, length in enumerate(lengths):
        targets[n, length:] = pad
    return targets


def _both(t: CheckContext, logits: torch.Tensor, targets: torch.Tensor, grad: bool = True, **kwargs: Any) -> None:
    """The loss per token, then per sequence, with the gradient for the logits."""
    for per in PER:
        t.expect_close(CE, logits, targets, per=per, grad_wrt=(0,) if grad else (), **kwargs)


# --- sequence_cross_entropy ------------------------------------------------------------------
@checks.add("sequence_cross_entropy gives the worked example: 1.142 per token, 0.900 per sequence",
            hint="Padding leaves the sum and the count: per token, 4 real tokens; per sequence, the mean of "
                 "the two sequences' own means.")
def worked_example(t: CheckContext) -> None:
    logits = torch.tensor([[2.0, 1.0, 0.1]]).repeat(2, 3, 1)
    targets = torch.tensor([[0, 1, 2], [0, -100, -100]])
    _both(t, logits, targets, grad=False)


@checks.add("per token: the sum over the real tokens divided by their number, padding left out of both, "
            "with the gradient (exactly 0 at padded positions), in float32 and float64, for a batch of one",
            devices=True,
            hint="The classes are the last dimension of (N, T, C) logits: log_softmax over dim=-1, gather each "
                 "position's target, zero the padded ones and divide by the number of real tokens.")
def per_token(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        logits = t.randn(3, 5, 4, dtype=dtype, scale=2.0)
        t.expect_close(CE, logits, _padded(t, [5, 2, 4], 5, 4), grad_wrt=(0,))
    t.expect_close(CE, t.randn(3, 6, 7, scale=2.0), t.randint(7, 3, 6), grad_wrt=(0,))  # no padding at all
    t.expect_close(CE, t.randn(1, 4, 3, scale=2.0), _padded(t, [3], 4, 3), grad_wrt=(0,))


@checks.add("per sequence: the mean over the sequences of each one's mean over its real tokens, with the "
            "gradient, in float32 and float64, for a batch of one", devices=True,
            hint="Sum each sequence's losses and count its real tokens (sum over dim=1), divide row by row, then "
                 "average the rows.")
def per_sequence(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        logits = t.randn(4, 6, 5, dtype=dtype, scale=2.0)
        targets = _padded(t, [6, 1, 3, 5], 6, 5)
        _both(t, logits, targets)
    _both(t, t.randn(1, 5, 3, scale=2.0), _padded(t, [2], 5, 3))


@checks.add("ignore_index may be a real class id (0, the padding token of many tokenizers, or 2): those "
            "targets are padding, and -100 is then an ordinary (invalid) target", devices=True,
            hint="Compare the targets with the ignore_index you are given, not with -100.")
def ignore_index(t: CheckContext) -> None:
    for pad in (0, 2):
        logits = t.randn(3, 5, 4, scale=2.0)
        _both(t, logits, _padded(t, [5, 2, 3], 5, 4, pad=pad), ignore_index=pad)


@checks.add("padding only: nan when every target is padding or the batch is empty (0 / 0, as torch); per "
            "sequence, a sequence with no real token is left out of the average", devices=True,
            hint="Divide by the counts as they are (0 / 0 is nan by itself); per sequence, average only over the "
                 "sequences whose count is above 0.")
def all_padding(t: CheckContext) -> None:
    logits = t.randn(3, 4, 5, scale=2.0)
    _both(t, logits, _padded(t, [4, 0, 2], 4, 5))  # one empty sequence
    _both(t, logits, torch.full((3, 4), -100), grad=False)
    _both(t, logits, torch.zeros(3, 4, dtype=torch.long), grad=False, ignore_index=0)
    _both(t, torch.zeros(0, 4, 5), torch.zeros(0, 4, dtype=torch.long), grad=False)
    _both(t, torch.zeros(2, 0, 5), torch.zeros(2, 0, dtype=torch.long), grad=False)


@checks.add("sequence_cross_entropy is exact for logits of +-1000 (no inf, no nan; the gradient checked in "
            "float64) and keeps the logits' dtype (float16 and bfloat16 too)", devices=True,
            hint="Never take the log of a softmax: log_softmax (or x - logsumexp) stays finite.")
def stability_and_dtypes(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        logits = t.randn(2, 3, 4, dtype=dtype, scale=1000.0)
        # the gradient in float64 only: at this scale float32 rounds it differently in every
        # correct formulation (log_softmax, x - logsumexp, a hand-made shift)
        _both(t, logits, _padded(t, [3, 2], 3, 4), grad=dtype == torch.float64)
    for dtype in (torch.float16, torch.bfloat16):
        logits = t.randn(3, 4, 5, dtype=dtype, scale=2.0)
        for per in PER:
            t.expect_close(CE, logits, _padded(t, [4, 1, 3], 4, 5), per=per, what=f"The {str(dtype)[6:]} result")


@checks.add("sequence_cross_entropy raises ValueError for an unknown `per`, and for logits and targets that do "
            "not fit (N, T, C) and (N, T), naming both shapes (an (N, C, T) tensor is refused)",
            hint="Check per, logits.dim() == 3, targets.dim() == 2 and logits.shape[:2] == targets.shape before "
                 "computing; put both shapes in the message.")
def bad_arguments(t: CheckContext) -> None:
    logits, targets = t.randn(2, 4, 5), t.randint(5, 2, 4)
    for per in ("sentence", "tokens"):
        expect_refusal(t, CE, logits, targets, per=per, errors=("ValueError",),
                       why="A mistyped `per` must stop the program.", returned="ex11.per-not-checked")
    why = "The first two sizes of the logits must be the targets' (N, T)."
    expect_shapes_named(t, CE, logits, targets[:, :3], shapes=((2, 4, 5), (2, 3)), why=why,
                        returned="ex11.shapes-not-checked")
    expect_shapes_named(t, CE, logits.transpose(1, 2), targets, shapes=((2, 5, 4), (2, 4)),
                        why="These logits are (N, C, T), torch's layout: this function takes (N, T, C).",
                        returned="ex11.shapes-not-checked")
    expect_refusal(t, CE, logits[0], targets[0], errors=("ValueError",),
                   why="Logits of one sequence, (T, C), need a batch dimension: (1, T, C).")


@checks.add("a target outside [0, C) that is not ignore_index raises IndexError naming it, like torch's "
            "'Target 7 is out of bounds.'",
            hint="Check (targets < 0) | (targets >= C) where targets != ignore_index, before gather.")
def target_out_of_range(t: CheckContext) -> None:
    logits = t.randn(2, 3, 4)
    # the mistake a returned value shows: no range check, or (for -100 with another ignore_index)
    # -100 taken for padding whatever ignore_index says
    cases: tuple[tuple[torch.Tensor, dict[str, Any], int, str], ...] = (
        (torch.tensor([[0, 7, 1], [2, -100, -100]]), {}, 7, "ex11.target-range-not-checked"),
        (torch.tensor([[0, 1, -1], [2, 3, -100]]), {}, -1, "ex11.target-range-not-checked"),
        (torch.tensor([[0, 1, 0], [2, -100, 0]]), {"ignore_index": 0}, -100, "ex11.ignore-index-not-used"))
    for targets, kwargs, bad, returned in cases:
        reply = t.learner.call(CE, logits, targets, device=t.device, **kwargs)
        if (reply.kind == "raised" and reply.error_type == "RuntimeError" and not reply.violations
                and not reply.not_implemented and "for dimension" in reply.message):
            t.fail(f"This call should raise IndexError naming the target {bad}, but your code {reply.explain()}",
                   call=t.describe(CE, (logits, targets), kwargs), expected="IndexError raised",
                   mistake="ex11.target-range-not-checked")
        reply = expect_refusal(t, CE, logits, targets, errors=("IndexError",), returned=returned,
                               why="A target outside [0, C) is a bug in the data or the padding value.", **kwargs)
        if not names_value(reply.message, bad):
            t.fail(f"The IndexError is right, but its message should name the target {bad}, as torch's "
                   f"'Target {bad} is out of bounds.' does", call=t.describe(CE, (logits, targets), kwargs),
                   got=reply.message, expected=f"a message naming {bad}")


# --- next_token_targets ----------------------------------------------------------------------
@checks.add("next_token_targets shifts left by one and puts pad last: [[5, 6, 7, 0], [8, 9, 0, 0]] with pad 0 "
            "gives [[6, 7, 0, 0], [9, 0, 0, 0]]",
            hint="Position t's target is the token at t + 1; the last position has no next token.")
def next_token_worked_example(t: CheckContext) -> None:
    t.expect_close(NEXT, torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0]]), 0)


@checks.add("next_token_targets works for any (N, T) batch and any pad (-100, a token id), for one sequence "
            "and one position, stays on the tokens' device and leaves them unchanged", devices=True,
            hint="torch.cat([tokens[:, 1:], a column of pad], dim=1): the result keeps the shape (N, T).")
def next_token_shapes(t: CheckContext) -> None:
    tokens = 1 + t.randint(50, 3, 6)
    for pad in (-100, 0, 17):
        t.expect_close(NEXT, tokens, pad)
    t.expect_close(NEXT, 1 + t.randint(9, 1, 5), -100)
    t.expect_close(NEXT, 1 + t.randint(9, 4, 1), -100)


@checks.add("next_token_targets raises ValueError for tokens that are not (N, T)",
            hint="Check tokens.dim() == 2 first.")
def next_token_bad_shape(t: CheckContext) -> None:
    expect_refusal(t, NEXT, 1 + t.randint(9, 5), 0, errors=("ValueError",),
                   why="One sequence of tokens needs a batch dimension: (1, T).")

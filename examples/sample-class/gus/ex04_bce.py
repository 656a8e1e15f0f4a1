# my work on ex04_bce.py, version 5
"""Exercise 04: binary cross-entropy, on probabilities and on logits, from scratch.

For a yes/no question (spam or not, tumour or not) a model gives one number per sample:
the probability p that the answer is yes. With the label y (1 for yes, 0 for no), binary
cross-entropy is the negative log-likelihood of that label:

    bce = -(y * log(p) + (1 - y) * log(1 - p))

When y = 1 only -log(p) is left: 0 when p is 1, huge as p falls to 0. When y = 0 it is
-log(1 - p), the mirror image. Worked example: probabilities [0.9, 0.2, 0.7] for labels
[1, 0, 1] cost -ln 0.9, -ln 0.8 and -ln 0.7, that is [0.105, 0.223, 0.357], mean 0.228.

Two forms, two lessons.

`binary_cross_entropy` takes probabilities. A probability of exactly 0 or 1 makes a log
-inf, and 0 * -inf is nan; torch avoids both by clamping each log at -100 before it
multiplies. So p = 0 with y = 0 costs 0 (not nan), and p = 1 with y = 0 costs 100.

`binary_cross_entropy_with_logits` takes the raw score x instead and applies the sigmoid,
p = 1 / (1 + exp(-x)), itself. Computing the sigmoid first and then its log loses
everything for confident scores: sigmoid(40.0) is exactly 1.0 in float32, so the log of
1 - p is -inf. Working with x directly keeps the loss exact; for logits [2.0, -1.0, 0.0]
and labels [1, 0, 1] the losses are [0.127, 0.313, 0.693], and a logit of 1e4 with label 0
costs exactly 1e4. `pos_weight` multiplies the y = 1 term only (a pos_weight of 3 counts
each positive as three); it broadcasts, so a (C,) pos_weight weighs each of C columns.

Both behave like the torch.nn.functional functions of the same names, which you may not
call, nor their module forms, nor F.logsigmoid or F.softplus.

Run `lossgrade check ex04` to test your work, `lossgrade hint ex04` when stuck.
"""
from typing import Optional

import torch


def binary_cross_entropy(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Binary cross-entropy on probabilities, like `F.binary_cross_entropy`.

    Args:
        input: probabilities in [0, 1], any shape.
        target: labels (0 or 1, or soft labels in between), the same shape as `input`.
        reduction: "mean", "sum" or "none".

    Returns:
        A tensor with the input's dtype; each log term is clamped at -100 as torch does.

    Raises:
        ValueError: if `reduction` is not one of the three names; if the shapes differ
            (torch too raises ValueError); if any input is outside [0, 1], for example a
            logit passed by mistake (torch raises RuntimeError there).
    """
    # TODO: validate, clamp each log at -100, combine the two terms, reduce.
    raise NotImplementedError("ex04: binary_cross_entropy is not written yet")


def binary_cross_entropy_with_logits(
    input: torch.Tensor,
    target: torch.Tensor,
    reduction: str = "mean",
    pos_weight: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Binary cross-entropy on logits, like `F.binary_cross_entropy_with_logits`.

    Args:
        input: logits (raw scores, any real number), any shape.
        target: labels, the same shape as `input`.
        reduction: "mean", "sum" or "none".
        pos_weight: optional weight of the positive (y = 1) term; broadcasts against
            `input`, e.g. shape (C,) for an (N, C) input.

    Returns:
        A tensor with the input's dtype, exact (finite, no nan) for logits up to +-1e4.

    Raises:
        ValueError: if `reduction` is not one of the three names, or the shapes differ.
    """
    # TODO: validate, then write log(sigmoid(x)) and log(1 - sigmoid(x)) so that exp()
    # never sees a large positive number.
    raise NotImplementedError("ex04: binary_cross_entropy_with_logits is not written yet")

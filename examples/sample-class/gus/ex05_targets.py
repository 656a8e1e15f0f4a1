# my work on ex05_targets.py, version 7
"""Exercise 05: one-hot labels, class indices, and all of `F.cross_entropy`.

A label can be written two ways. Class indices say "sample 0 is class 1, sample 1 is
class 0": the int64 tensor [1, 0]. One-hot rows say the same with one 1 per row:
[[0, 1, 0], [1, 0, 0]]. `torch.nn.functional.cross_entropy` takes either (the second, as
floats, since torch 1.10), and tells them apart by shape: a target with exactly the input's
shape holds class probabilities (a one-hot row is the special case with all its probability
on one class); any other shape holds class indices. Feeding one-hot rows where indices are
expected, or the reverse, is one of the most common mistakes; `one_hot` builds the rows from
the indices.

`cross_entropy_full` is the whole of `F.cross_entropy`. With the log-probabilities
lp = log_softmax(input) along the class dimension (dimension 1, or 0 for a (C,) input):

  * Index targets: sample n costs l_n = -w[y_n] * lp_n[y_n] (w = 1 without `weight`).
    A target equal to `ignore_index` costs 0 and is left out of the average. "mean" is
    sum(l_n) / sum(w[y_n]) over the targets that are not ignored, so a class of weight 3
    counts like three samples. If every target is ignored, "mean" is 0 / 0 = nan.
  * Probability targets: l_n = -sum_c w_c * y_nc * lp_nc, and "mean" divides by the number
    of samples (times the extra dimensions), NOT by the weights: torch does it this way.
  * More dimensions: an (N, C, d1, ..., dk) input (an image of per-pixel scores, say) goes
    with an (N, d1, ..., dk) index target; every position is one more sample.
  * Label smoothing eps: the target keeps 1 - eps of its probability and spreads eps evenly
    over the C classes. For index targets the loss is (1 - eps) * nll + (eps / C) * S_n
    with S_n = -sum_c w_c * lp_nc (0 where ignored), both parts divided by the same
    denominator for "mean"; for probability targets, y becomes y * (1 - eps) + eps / C.

Worked examples, with logits [[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]]:
  * targets [0, 1]: per-sample losses [0.417, 0.197], mean 0.307;
  * with weight [1, 3, 1]: (1 * 0.417 + 3 * 0.197) / (1 + 3) = 0.252;
  * targets [0, -100]: the second is ignored, so the mean is 0.417, not 0.417 / 2;
  * first row only, target 0, label_smoothing=0.1: 0.514; probability target
    [0.7, 0.2, 0.1]: 0.807.

Errors follow torch: "Target 5 is out of bounds." (IndexError) for an index outside
[0, C) that is not ignore_index; ValueError for a batch size mismatch or a bad reduction;
RuntimeError for an int32 target, an integer target of exactly the input's shape (one-hot
rows left as integers: probabilities must be floating point), a weight of the wrong length,
label_smoothing above 1, or an ignore_index >= 0 with probability targets.

You may import your own ex03 (`from ex03_cross_entropy import log_softmax`) or use
`torch.logsumexp`; you may not call F.cross_entropy, F.nll_loss, F.one_hot, torch's
log_softmax or softmax, or the loss modules.

Run `lossgrade check ex05` to test your work, `lossgrade hint ex05` when stuck.
"""
from typing import Optional

import torch


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot rows from class indices, like `F.one_hot` but as float32.

    Args:
        labels: integer class indices, any shape, each in [0, num_classes).
        num_classes: C, the length of every row.

    Returns:
        A float32 tensor of shape (*labels.shape, num_classes), on the labels' device, with
        a 1.0 at each label's index and 0.0 elsewhere: [1, 0] with C = 3 gives
        [[0., 1., 0.], [1., 0., 0.]].

    Raises:
        ValueError: if a label is negative or >= num_classes (name it in the message).
    """
    # TODO: check the labels, then compare each one with every class index.
    raise NotImplementedError("ex05: one_hot is not written yet")


def cross_entropy_full(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: Optional[torch.Tensor] = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """`torch.nn.functional.cross_entropy`, in full.

    Args:
        input: logits of shape (C,), (N, C) or (N, C, d1, ..., dk).
        target: class indices (int64 or uint8) of shape (), (N,) or (N, d1, ..., dk), or
            class probabilities (floating) of exactly the input's shape.
        weight: optional (C,) weight per class, with the input's dtype.
        ignore_index: an index target equal to this costs nothing and is not counted.
        reduction: "mean", "sum" or "none" ("none" returns the target's shape without C).
        label_smoothing: eps in [0, 1].

    Returns:
        A tensor with the input's dtype.

    Raises:
        IndexError, ValueError, RuntimeError: as listed in the module docstring.
    """
    # TODO: validate; take log_softmax over the class dimension; then handle probability
    # targets and index targets (weights, ignore_index, label smoothing) separately.
    raise NotImplementedError("ex05: cross_entropy_full is not written yet")

# my work on ex03_cross_entropy.py, version 4
"""Exercise 03: log-softmax and cross-entropy with class indices, from scratch.

A classifier does not output a probability for each class: it outputs raw scores, called
logits, one per class, any real number. Softmax turns them into probabilities that are
positive and add up to 1:

    softmax(x)_c = exp(x_c) / sum_k exp(x_k)

Cross-entropy then scores one sample by how little probability it gave the true class t:

    loss = -log softmax(x)_t

A model that is 95% sure of the right class pays -ln 0.95 = 0.05; one that is 95% sure of
a wrong class (so 5% on the right one) pays -ln 0.05 = 3.00. Overconfident mistakes cost
the most. A model that guesses uniformly over ten digits pays ln 10 = 2.30 on every sample,
which is why a digit classifier's loss starts near 2.30 before training.

Worked example: logits [2.0, 1.0, 0.1] give probabilities [0.659, 0.242, 0.099] and
log-probabilities [-0.417, -1.417, -2.317]. With the true class 0 the loss is 0.417; with
class 2 it is 2.317.

The catch is numerical. exp(89) is already inf in float32, so the formula above, typed in
as written, turns logits of 1e4 into inf / inf = nan; and log(softmax(x)) of [0, -200]
gives -inf for the second class, because exp(-200) rounds to 0, where the true answer is
-200. Your `log_softmax` must be exact for logits up to +-1e4: no inf, no nan.

Both functions behave like `torch.nn.functional.log_softmax` and
`torch.nn.functional.cross_entropy` (with class-index targets). You may not call those,
nor torch's softmax, log_softmax or logsumexp in any form, nor nll_loss or the loss modules.

Run `lossgrade check ex03` to test your work, `lossgrade hint ex03` when stuck.
"""
import torch


def log_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """The logarithm of softmax along `dim`, computed without overflow.

    Args:
        logits: raw scores, any shape, floating point.
        dim: the dimension that holds the classes.

    Returns:
        A tensor of the logits' shape and dtype; along `dim`, its exp() sums to 1.
        Exact (finite, no nan) for logits as large as 1e4 or as small as -1e4.
    """
    # TODO: compute log(softmax) along `dim` so that exp() never sees a large number.
    raise NotImplementedError("ex03: log_softmax is not written yet")


def cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Cross-entropy of logits against class indices, like `F.cross_entropy`.

    Args:
        logits: raw scores, shape (N, C) for a batch of N samples and C classes, or (C,)
            for one sample.
        target: class indices (int64), shape (N,), or a 0-d tensor when logits is (C,).
            Each index is in [0, C).
        reduction: "mean" (average over the N samples), "sum", or "none" (one loss per
            sample, shape (N,), or 0-d for one sample).

    Returns:
        A tensor with the logits' dtype.

    Raises:
        ValueError: if `reduction` is not "mean", "sum" or "none", or if the target's
            batch size differs from the logits'.
        IndexError: if a target is outside [0, C) (C itself included); the message says
            which target, with its value, as torch's does: "Target 5 is out of bounds."
    """
    # TODO: validate, take log_softmax over the classes, pick each sample's true class.
    raise NotImplementedError("ex03: cross_entropy is not written yet")

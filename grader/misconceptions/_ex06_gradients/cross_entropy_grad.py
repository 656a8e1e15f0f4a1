"""Mistakes learners make deriving cross-entropy's gradient with respect to the logits by
hand (`cross_entropy_grad`): the N it divides by, the one-hot target, the softmax and its
stability, a single (C,) sample, the target's bounds.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Mistake, upcast

Tensor = torch.Tensor


def _rows(logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """(N, C) logits and (N,) targets; a (C,) sample becomes a batch of one. Refuses a
    target outside [0, C), as it should."""
    outside = (target < 0) | (target >= logits.shape[-1])
    if outside.any():
        raise IndexError(f"Target {target[outside].flatten()[0].item()} is out of bounds.")
    return (logits, target) if logits.dim() == 2 else (logits.unsqueeze(0), target.reshape(1))


def _ce_pieces(logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor, int]:
    """softmax, one-hot and N, for (N, C) or (C,) logits."""
    rows, labels = _rows(logits, target)
    probs = torch.softmax(rows, dim=-1)
    hot = F.one_hot(labels.long(), rows.shape[-1]).to(rows.dtype)
    return probs, hot, rows.shape[0]


def _like(grad: Tensor, logits: Tensor) -> Tensor:
    return grad.reshape(logits.shape)


def _naive_softmax_grad(logits: Tensor, target: Tensor) -> Tensor:
    rows, labels = _rows(logits, target)
    exps = rows.exp()
    hot = F.one_hot(labels.long(), rows.shape[-1]).to(rows.dtype)
    return _like((exps / exps.sum(-1, keepdim=True) - hot) / rows.shape[0], logits)


def _ce_rows_from_shape0(logits: Tensor, target: Tensor) -> Tensor:
    """Right for (N, C) batches; a (C,) sample divided by logits.shape[0], that is by C."""
    probs, hot, _ = _ce_pieces(logits, target)
    return _like((probs - hot) / logits.shape[0], logits)


def _ce_over_elements(logits: Tensor, target: Tensor) -> Tensor:
    """Divided by N * C. On a (C,) sample that is C, which is also what N = logits.shape[0]
    gives: no evidence for this mistake there (the checks show each (C,) sample after a batch)."""
    if logits.dim() != 2:
        raise ValueError("a (C,) sample cannot tell N * C from logits.shape[0]")
    probs, hot, _ = _ce_pieces(logits, target)
    return (probs - hot) / probs.numel()


def _ce_batches_only(logits: Tensor, target: Tensor) -> Tensor:
    """Right for (N, C) batches; a (C,) sample raises, as softmax(dim=1) or indexing by rows does."""
    if logits.dim() != 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    probs, hot, n = _ce_pieces(logits, target)
    return (probs - hot) / n


def _ce_kept_batch_shape(logits: Tensor, target: Tensor) -> Tensor:
    """Right values, but a (C,) sample's gradient comes back as a (1, C) batch of one (batches
    are right)."""
    probs, hot, n = _ce_pieces(logits, target)
    return (probs - hot) / n


def _ce_global_max(logits: Tensor, target: Tensor) -> Tensor:
    """The softmax shifted by the largest logit of the whole batch, not by each row's."""
    rows, labels = _rows(logits, target)
    exps = (rows - rows.max()).exp()
    hot = F.one_hot(labels.long(), rows.shape[-1]).to(rows.dtype)
    return _like((exps / exps.sum(-1, keepdim=True) - hot) / rows.shape[0], logits)


def _ce_columns(logits: Tensor, target: Tensor) -> Tensor:
    """`grad[:, target] -= 1`: every row loses 1 at every class that any sample has."""
    probs, hot, n = _ce_pieces(logits, target)
    columns = (hot.sum(0, keepdim=True) > 0).to(probs.dtype).expand_as(probs)
    return _like((probs - columns) / n, logits)


def _ce_softmax_over_samples(logits: Tensor, target: Tensor) -> Tensor:
    """softmax(dim=0) on (N, C) logits: each class normalised over the batch."""
    if logits.dim() != 2 or logits.shape[0] == 1:
        raise ValueError("the same as the right softmax here")
    _, hot, n = _ce_pieces(logits, target)
    return (torch.softmax(logits, dim=0) - hot) / n


def _ce_unchecked(logits: Tensor, target: Tensor) -> Tensor:
    """The right gradient with no bounds check: -1 counts from the end, C makes indexing raise."""
    rows = logits if logits.dim() == 2 else logits.unsqueeze(0)
    labels = target.reshape(-1).long()
    grad = torch.softmax(rows, dim=-1)
    grad[torch.arange(rows.shape[0]), labels] -= 1
    return _like(grad / rows.shape[0], logits)


def _ce_sigmoid(logits: Tensor, target: Tensor) -> Tensor:
    rows, labels = _rows(logits, target)
    hot = F.one_hot(labels.long(), rows.shape[-1]).to(rows.dtype)
    return _like((torch.sigmoid(rows) - hot) / rows.shape[0], logits)


def _ce(formula: Callable[[Tensor, Tensor, int], Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
    """A wrong cross_entropy_grad from formula(softmax, one_hot, N)."""

    def wrong(logits: Tensor, target: Tensor) -> Tensor:
        probs, hot, n = _ce_pieces(logits, target)
        return _like(formula(probs, hot, n), logits)

    return wrong


MISCONCEPTIONS = [
    Mistake(
        id="ex06.ce-single-sample-n", function="cross_entropy_grad",
        name="Took N from logits.shape[0], which for a single (C,) sample is C",
        message="Your cross_entropy_grad is right for (N, C) batches, but a single (C,) sample comes out divided "
                "by C: logits.shape[0] (or len(logits)) is the number of classes there, and N is 1. Treat a (C,) "
                "sample as a batch of one (unsqueeze(0)) or take N from the target.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_ce_rows_from_shape0,
    ),
    Mistake(
        id="ex06.ce-gradient-of-sum", function="cross_entropy_grad",
        name="Returned softmax minus one-hot without dividing by N",
        message="Your cross_entropy_grad is softmax - one_hot for every sample, the gradient of the summed "
                "loss. The loss is the mean over N samples, so every row of the gradient is divided by N.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_ce(lambda probs, hot, n: probs - hot),
    ),
    Mistake(
        id="ex06.ce-divided-by-elements", function="cross_entropy_grad",
        name="Divided by N * C instead of the number of samples N",
        message="Your cross_entropy_grad is divided by every element of the (N, C) logits. Cross-entropy "
                "averages one loss per sample, so the mean divides by N alone; the C logits of a sample share "
                "that sample's loss.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_ce_over_elements,
    ),
    Mistake(
        id="ex06.ce-divided-by-classes", function="cross_entropy_grad",
        name="Divided by the number of classes C instead of the number of samples N",
        message="Your cross_entropy_grad divides by logits.shape[-1], the number of classes. The mean runs over "
                "the N samples (one loss each), so divide by N = logits.shape[0] for a batch, and by 1 for a "
                "single (C,) sample.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_ce(lambda probs, hot, n: (probs - hot) / probs.shape[-1]),
    ),
    Mistake(
        id="ex06.ce-sign-flipped", function="cross_entropy_grad",
        name="Flipped the sign: one-hot minus softmax",
        message="Your cross_entropy_grad is negative where it should be positive. Raising a wrong class's "
                "logit increases the loss, so its gradient is positive (softmax minus 0), and the true class's "
                "is negative: gradient descent subtracts the gradient and pulls the true class up.",
        quiz="training-step#learning-rate-too-high",
        wrong=_ce(lambda probs, hot, n: (hot - probs) / n),
    ),
    Mistake(
        id="ex06.ce-no-one-hot", function="cross_entropy_grad",
        name="Forgot to subtract the one-hot target: returned softmax / N",
        message="Your cross_entropy_grad never looks at the target: it is the softmax divided by N. Each row "
                "of the right gradient sums to 0, because the true class is pulled up by as much as the other "
                "classes are pushed down; subtract 1 at every sample's true class.",
        quiz="loss-scales#confident-and-wrong",
        wrong=_ce(lambda probs, hot, n: probs / n),
    ),
    Mistake(
        id="ex06.ce-log-probabilities", function="cross_entropy_grad",
        name="Used log-probabilities (log_softmax) where the gradient needs probabilities",
        message="Your cross_entropy_grad subtracts the one-hot row from log_softmax. The loss is built from "
                "log-probabilities, but its derivative with respect to the logits is the softmax itself: "
                "probabilities between 0 and 1, minus the one-hot row.",
        quiz="logits#cross-entropy-equals-nll-of-log-softmax",
        wrong=_ce(lambda probs, hot, n: (probs.log() - hot) / n),
    ),
    Mistake(
        id="ex06.ce-naive-softmax", function="cross_entropy_grad",
        name="Exponentiated the raw logits, so large logits give nan",
        message="Your softmax computes exp() of the logits as they are: exp(1e4) is inf, and inf / inf is nan. "
                "Softmax does not change when the same number is subtracted from every logit of a sample; pick "
                "that number so that exp() never sees anything positive.",
        quiz="logits#naive-softmax-overflow",
        wrong=_naive_softmax_grad,
    ),
    Mistake(
        id="ex06.ce-single-sample-unhandled", function="cross_entropy_grad",
        name="Handled (N, C) batches only: a single (C,) sample raised",
        message="Your cross_entropy_grad is right for batches but raised on a single (C,) sample, whose "
                "target is a 0-d tensor: dim=1, shape[1] or grad[rows, target] assume two dimensions. Turn a "
                "(C,) sample into a batch of one (logits.unsqueeze(0), target.reshape(1)), compute, and give "
                "the result the logits' shape again.",
        quiz="targets#target-shape",
        wrong=_ce_batches_only,
    ),
    Mistake(
        id="ex06.ce-single-sample-kept-2d", function="cross_entropy_grad",
        name="Returned a (1, C) gradient for a single (C,) sample",
        message="Your cross_entropy_grad turned a (C,) sample into a batch of one, which is a good way to compute "
                "it, but returned the (1, C) result. A gradient has its input's shape: squeeze the batch "
                "dimension away again (or reshape to logits.shape) before returning.",
        quiz="targets#target-shape",
        wrong=_ce_kept_batch_shape,
    ),
    Mistake(
        id="ex06.ce-global-max", function="cross_entropy_grad",
        name="Shifted every logit by the batch's largest logit instead of each row's own maximum",
        message="Your softmax subtracts logits.max(), one number for the whole batch. A row whose logits all sit "
                "far below that maximum (say -1e4 against a 1e4 elsewhere) then has exp() = 0 everywhere and "
                "0 / 0 = nan. Subtract each row's own maximum: logits.max(dim=-1, keepdim=True).",
        quiz="logits#softmax-shift-invariant",
        wrong=_ce_global_max,
    ),
    Mistake(
        id="ex06.ce-indexed-columns", function="cross_entropy_grad",
        name="Subtracted 1 from whole columns: grad[:, target] instead of grad[rows, target]",
        message="Your cross_entropy_grad subtracts 1 in every row at every class that appears among the targets, "
                "as `grad[:, target] -= 1` does. Each sample has its own true class: subtract 1 once per row, at "
                "(n, t_n), with grad[torch.arange(N), target] (or a one-hot row per sample).",
        quiz="targets#one-hot-to-cross-entropy",
        wrong=_ce_columns,
    ),
    Mistake(
        id="ex06.ce-softmax-over-samples", function="cross_entropy_grad",
        name="Took the softmax over the samples (dim=0) instead of over each sample's classes",
        message="Your softmax normalises each class over the batch: its columns sum to 1, not its rows. A "
                "sample's probabilities come from its own C logits, so normalise along the last dimension "
                "(dim=-1, keepdim=True for the row sums).",
        quiz="logits#softmax-by-hand",
        wrong=_ce_softmax_over_samples,
    ),
    Mistake(
        id="ex06.ce-sigmoid", function="cross_entropy_grad",
        name="Used the sigmoid of each logit where cross-entropy needs the softmax",
        message="Your cross_entropy_grad subtracts the one-hot row from sigmoid(logits). The sigmoid treats each "
                "class on its own (that is BCE's gradient); cross-entropy's probabilities come from a softmax "
                "over the sample's C logits, which is why each row of its gradient sums to 0.",
        quiz="logits#sigmoid-before-bce-with-logits",
        wrong=_ce_sigmoid,
    ),
    Mistake(
        id="ex06.ce-no-bounds-check", function="cross_entropy_grad",
        name="Did not refuse a class index outside [0, C)",
        message="Your cross_entropy_grad returned a gradient for a target of -1: indexing with -1 silently picks "
                "the last class, so a bug in the labels trains the model on the wrong answer. Check "
                "0 <= t < C before computing and raise IndexError naming the bad target.",
        quiz="targets#index-out-of-range",
        wrong=_ce_unchecked,
    ),
    upcast("ex06", "cross_entropy_grad", _ce(lambda probs, hot, n: (probs - hot) / n)),
]

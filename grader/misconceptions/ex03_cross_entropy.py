"""Mistakes learners make writing log-softmax and cross-entropy with class indices.

The wrong implementations run in the trusted process, so they may use torch's own
softmax; each reproduces one mistake and is otherwise right.
"""
from __future__ import annotations

import torch

import torch.nn.functional as F

from lossgrade.misconceptions import REDUCTIONS, Evidence, Mistake, behaves_like, reduce as _reduce, upcast


def _shift_not_undone(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    shifted = logits - logits.amax(dim=dim, keepdim=True)
    return logits - shifted.exp().sum(dim=dim, keepdim=True).log()


def _normalised_over_batch(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if logits.dim() < 2:
        return _cross_entropy_of(torch.log_softmax(logits, dim=-1), target, reduction)
    return _cross_entropy_of(torch.log_softmax(logits, dim=0), target, reduction)


def _pick(values: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """values[n, target[n]] for (N, C) values, values[target] for (C,) ones."""
    return values.gather(-1, target.unsqueeze(-1)).squeeze(-1)


def _cross_entropy_of(log_probs: torch.Tensor, target: torch.Tensor, reduction: str) -> torch.Tensor:
    return _reduce(-_pick(log_probs, target), reduction)


# --- log_softmax mistakes
def _naive_log_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    return logits - logits.exp().sum(dim=dim, keepdim=True).log()


def _log_of_naive_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    exp = logits.exp()
    return (exp / exp.sum(dim=dim, keepdim=True)).log()


def _max_over_everything(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    shifted = logits - logits.max()
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


# --- cross_entropy mistakes
def _softmax_twice(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return _cross_entropy_of(torch.log_softmax(torch.softmax(logits, dim=-1), dim=-1), target, reduction)


def _mean_over_classes(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    losses = -_pick(torch.log_softmax(logits, dim=-1), target)
    return losses.sum() / logits.numel() if reduction == "mean" else _reduce(losses, reduction)


def _single_sample_shape(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if logits.dim() == 1:
        logits, target = logits.unsqueeze(0), target.reshape(1)
    return _cross_entropy_of(torch.log_softmax(logits, dim=-1), target, reduction)


def _range_unchecked(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Right, but with no bound check: indexing raises its own error for C, and wraps -1 around."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}")
    if logits.dim() == 2 and target.shape[0] != logits.shape[0]:
        raise ValueError("batch sizes differ")
    log_probs = torch.log_softmax(logits, dim=-1)
    if logits.dim() == 1:
        return _reduce(-log_probs[target], reduction)
    return _reduce(-log_probs[torch.arange(logits.shape[0]), target], reduction)


def _shift_by_mean(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Shifted by the mean of each row, not its max: exp() still overflows for a wide row."""
    shifted = logits - logits.mean(dim=dim, keepdim=True)
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


def _shifted_by_mean(evidence: Evidence) -> bool:
    """The learner's values show the mean shift's own blow-ups (inf or nan where the answer is
    finite, not hidden by a clamp), and not the unshifted ones': on logits where both overflow
    alike, the unshifted (more common) mistake is the one named."""
    with torch.no_grad():
        by_mean = _shift_by_mean(*evidence.args, **evidence.kwargs)
        unshifted = _naive_log_softmax(*evidence.args, **evidence.kwargs)
    if not isinstance(by_mean, torch.Tensor) or by_mean.shape != evidence.got.shape:
        return False
    blows_up = ~torch.isfinite(evidence.got.detach().cpu()) & ~torch.isfinite(by_mean.detach().cpu())
    return (bool(blows_up.any()) and behaves_like(evidence.got, by_mean, evidence.expected)
            and not behaves_like(evidence.got, unshifted, evidence.expected))


def _checked(logits: torch.Tensor, target: torch.Tensor, reduction: str, error: type[Exception],
             message: str, batch: bool = True) -> torch.Tensor:
    """Right, except for the validation that each mistake below gets wrong."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}")
    if batch and logits.dim() == 2 and target.shape[0] != logits.shape[0]:
        raise ValueError(f"{logits.shape[0]} rows but {target.shape[0]} targets")
    classes = logits.shape[-1]
    outside = (target < 0) | (target >= classes)
    if outside.any():
        raise error(message.format(target.reshape(-1)[outside.reshape(-1)][0].item()))
    if logits.dim() == 2 and target.shape[0] < logits.shape[0]:  # gather pairs only the first rows
        logits = logits[: target.shape[0]]
    return F.cross_entropy(logits, target, reduction=reduction)


def _value_error_for_range(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return _checked(logits, target, reduction, ValueError, "Target {} is out of bounds.")


def _range_message_without_target(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return _checked(logits, target, reduction, IndexError, "a target is out of bounds")


def _batch_unchecked(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return _checked(logits, target, reduction, IndexError, "Target {} is out of bounds.", batch=False)


def _reduction_unchecked(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if logits.dim() == 2 and target.shape[0] != logits.shape[0]:
        raise ValueError("batch sizes differ")
    return F.cross_entropy(logits, target, reduction=reduction if reduction in REDUCTIONS else "none")


MISCONCEPTIONS = [
    # --- log_softmax
    Mistake(
        id="ex03.softmax-not-log", function="log_softmax",
        name="Returned the probabilities (softmax) instead of their logarithm",
        message="Your log_softmax returns values between 0 and 1 that sum to 1: that is softmax. "
                "log_softmax returns their logarithms, every value <= 0, and is never computed by taking the "
                "log of those probabilities.",
        quiz="logits#cross-entropy-equals-nll-of-log-softmax",
        wrong=lambda logits, dim=-1: torch.softmax(logits, dim=dim),
    ),
    Mistake(
        id="ex03.naive-log-softmax", function="log_softmax",
        name="Exponentiated the raw logits (no shift), so large logits overflow",
        message="Your log_softmax computes exp() of the logits as they are. exp(89) is already inf in float32 "
                "(exp(710) in float64), so large logits give inf and then -inf or nan. Softmax does not change "
                "when the same number is subtracted from every logit of a sample: pick that number so that "
                "exp() never sees anything positive.",
        quiz="logits#naive-softmax-overflow",
        wrong=_naive_log_softmax,
    ),
    Mistake(
        id="ex03.log-of-softmax", function="log_softmax",
        name="Computed a stable softmax, then took its log (-inf for unlikely classes)",
        message="Your softmax is stable, but its log is not: a class 200 below the best one has probability "
                "exp(-200), which rounds to 0 in float32, and log(0) is -inf where the answer is -200. Stay in "
                "log space: subtract the log of the sum instead of dividing by the sum.",
        quiz="logits#naive-softmax-overflow",
        wrong=lambda logits, dim=-1: torch.softmax(logits, dim=dim).log(),
    ),
    Mistake(
        id="ex03.log-of-naive-softmax", function="log_softmax",
        name="Took the log of exp(x) / sum(exp(x)), which overflows to nan",
        message="Your log_softmax divides exponentials of the raw logits and then takes the log. For large "
                "logits both exponentials are inf and inf / inf is nan. Work with logits minus a well-chosen "
                "number, and never take the log of a probability you have already rounded.",
        quiz="logits#naive-softmax-overflow",
        wrong=_log_of_naive_softmax,
    ),
    Mistake(
        id="ex03.max-over-everything", function="log_softmax",
        name="Subtracted one maximum for the whole tensor instead of each row's own",
        message="You shifted every logit by the largest value in the whole tensor. That only protects the row "
                "holding that value: a row whose logits are all far below it has every exp() round to 0, and "
                "the log of its sum is -inf. Take the maximum along `dim`, one per row.",
        quiz="logits#softmax-shift-invariant",
        wrong=_max_over_everything,
    ),
    Mistake(
        id="ex03.clamped-logits", function="log_softmax",
        name="Clamped the logits to avoid overflow, which changes the answer",
        message="Your log_softmax gives every large logit of a row the same value, as if the logits had been "
                "clamped. Clamping avoids inf, but logits of 10000 and 9999 are not equally likely. There is an "
                "exact way: a shift that leaves softmax unchanged.",
        quiz="logits#softmax-shift-invariant",
        wrong=lambda logits, dim=-1: torch.log_softmax(logits.clamp(-50.0, 50.0), dim=dim),
    ),
    Mistake(
        id="ex03.ignores-dim", function="log_softmax",
        name="Always normalised over the last dimension, ignoring `dim`",
        message="Your log_softmax normalises along the last dimension whatever `dim` says. Images, sequences "
                "and torch's own (N, C, d1, ...) layout keep the classes elsewhere: run the maximum and the sum "
                "along `dim`.",
        quiz="targets#target-shape",
        wrong=lambda logits, dim=-1: torch.log_softmax(logits, dim=-1),
    ),
    # --- cross_entropy
    Mistake(
        id="ex03.softmax-twice", function="cross_entropy",
        name="Applied softmax to the logits before cross-entropy (softmax twice)",
        message="Your cross_entropy equals the cross-entropy of softmax(logits): the probabilities went through "
                "softmax a second time. Cross-entropy takes raw logits and does the normalising itself; squeezed "
                "into [0, 1], the scores become almost uniform and the loss can no longer get small.",
        quiz="logits#softmax-before-ce",
        wrong=_softmax_twice,
    ),
    Mistake(
        id="ex03.not-negated", function="cross_entropy",
        name="Forgot the minus sign (the loss is negative)",
        message="Your losses are the log-probabilities of the true classes, which are <= 0. A loss must be "
                "minimised; the log-probability of the right answer must be maximised, so the loss is its "
                "negative.",
        quiz="loss-scales#nll-on-probabilities",
        wrong=lambda logits, target, reduction="mean":
            -_cross_entropy_of(torch.log_softmax(logits, dim=-1), target, reduction),
    ),
    Mistake(
        id="ex03.nll-on-logits", function="cross_entropy",
        name="Picked minus the raw logit of the true class (no log-softmax)",
        message="Your loss is minus the true class's logit. Logits are not log-probabilities until they are "
                "normalised: raising every logit by 5 would cut your loss by 5 without changing the prediction. "
                "Turn the logits into log-probabilities first.",
        quiz="logits#cross-entropy-equals-nll-of-log-softmax",
        wrong=lambda logits, target, reduction="mean": _cross_entropy_of(logits, target, reduction),
    ),
    Mistake(
        id="ex03.probabilities-not-log", function="cross_entropy",
        name="Picked minus the probability of the true class (forgot the log)",
        message="Your loss is minus the softmax probability of the true class, between -1 and 0. Cross-entropy "
                "takes the log: a 5% probability on the right class must cost -ln 0.05 = 3.0, far more than a "
                "50% one.",
        quiz="loss-scales#nll-on-probabilities",
        wrong=lambda logits, target, reduction="mean":
            _cross_entropy_of(torch.softmax(logits, dim=-1), target, reduction),
    ),
    Mistake(
        id="ex03.mean-over-classes", function="cross_entropy",
        name="Averaged over samples and classes (divided by N * C)",
        message="Your 'mean' equals the sum of the losses divided by N * C, as when a one-hot product is "
                "averaged over the whole (N, C) table. There is one loss per sample: 'mean' divides by N.",
        quiz="targets#one-hot-to-cross-entropy",
        wrong=_mean_over_classes,
    ),
    Mistake(
        id="ex03.sum-not-mean", function="cross_entropy",
        name="Summed the per-sample losses for reduction='mean'",
        message="Your 'mean' equals the sum over the batch. That makes the loss and its gradient (and, with plain "
                "SGD, the step size) grow with the batch size; 'mean' divides by the number of samples.",
        quiz="loss-scales#sum-vs-mean",
        wrong=lambda logits, target, reduction="mean":
            _cross_entropy_of(torch.log_softmax(logits, dim=-1), target, "sum" if reduction == "mean" else reduction),
    ),
    Mistake(
        id="ex03.every-sample-every-target", function="cross_entropy",
        name="Indexed log_probs[:, target], pairing every sample with every target",
        message="Your result matches log_probs[:, target]: that takes, for every sample, the columns of all N "
                "targets (an (N, N) table), not each sample's own class. Pair row n with target[n] only.",
        quiz="targets#target-shape",
        wrong=lambda logits, target, reduction="mean":
            _reduce(-torch.log_softmax(logits, dim=-1)[:, target], reduction),
    ),
    Mistake(
        id="ex03.target-as-one-hot", function="cross_entropy",
        name="Multiplied the log-probabilities by the class index, as if it were one-hot",
        message="Your loss equals -sum(target * log_probs): the class index was used as if it were a one-hot "
                "vector. An index says which column to take; multiplying by it scales and broadcasts instead. "
                "Pick the true class's entry (or build a real one-hot vector first).",
        quiz="targets#one-hot-to-cross-entropy",
        wrong=lambda logits, target, reduction="mean":
            _reduce(-(target * torch.log_softmax(logits, dim=-1)).sum(-1), reduction),
    ),
    Mistake(
        id="ex03.single-sample-shape", function="cross_entropy",
        name="Returned shape (1,) for a single (C,) sample with reduction='none'",
        message="For one (C,) sample and a 0-d target, torch returns a 0-d loss with reduction='none': the "
                "loss has the target's shape. Your result kept an extra batch dimension of size 1.",
        quiz="targets#target-shape",
        wrong=_single_sample_shape,
    ),
    Mistake(
        id="ex03.shift-not-undone", function="log_softmax",
        name="Subtracted the maximum inside the sum but not from the logits outside it",
        message="Your result is log_softmax plus each row's maximum: you computed log(sum(exp(x - m))) but "
                "subtracted it from x instead of from x - m. The shift must be applied to both: "
                "log_softmax(x) = (x - m) - log(sum(exp(x - m))).",
        quiz="logits#softmax-shift-invariant",
        wrong=_shift_not_undone,
    ),
    Mistake(
        id="ex03.normalised-over-batch", function="cross_entropy",
        name="Normalised the logits over the batch (dim 0) instead of over the classes",
        message="Your cross_entropy takes log_softmax along dimension 0, so each class is normalised across "
                "the samples of the batch. For (N, C) logits the classes are dimension 1 (the last): every "
                "sample gets its own distribution over the C classes.",
        quiz="targets#target-shape",
        wrong=_normalised_over_batch,
    ),
    upcast("ex03", "log_softmax", lambda logits, dim=-1: torch.log_softmax(logits, dim=dim)),
    upcast("ex03", "cross_entropy", lambda logits, target, reduction="mean": F.cross_entropy(logits, target, reduction=reduction)),
    Mistake(
        id="ex03.target-range-not-checked", function="cross_entropy",
        name="Did not check the targets against [0, C): C itself or a negative target gets through",
        message="A target outside [0, C) reached the indexing: a negative one silently counts from the end "
                "(-1 becomes class C-1), and C itself fails inside torch with an error that names neither the "
                "target nor the fix. Compare every target with 0 and with C (C is already out: the classes are "
                "0 to C-1) and raise IndexError naming the target, as torch's 'Target 5 is out of bounds.' does.",
        quiz="targets#index-out-of-range",
        wrong=_range_unchecked,
    ),
    Mistake(
        id="ex03.reduction-not-checked", function="cross_entropy",
        name="Did not refuse an unknown `reduction`",
        message="Given reduction='average' (or 'MEAN') your function returned a value instead of raising "
                "ValueError. A typo in an argument should stop the program, not silently pick another "
                "behaviour: compare reduction with 'mean', 'sum' and 'none' first.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_reduction_unchecked,
    ),
    Mistake(
        id="ex03.shift-by-mean", function="log_softmax",
        name="Shifted the logits by their mean instead of their max",
        message="Your log_softmax subtracts a number from each row before exp(), which is the right idea, but "
                "the mean is not enough: in a row such as [1e4, -1e4] the largest logit is still 1e4 above the "
                "mean, and exp() overflows to inf. Subtract the row's max, so that exp() never sees anything "
                "positive.",
        quiz="logits#naive-softmax-overflow",
        wrong=_shift_by_mean,
        matches=_shifted_by_mean,
    ),
    Mistake(
        id="ex03.target-error-not-indexerror", function="cross_entropy",
        name="Raised ValueError (or another type) for a target out of range, not IndexError",
        message="Your check for targets outside [0, C) is there, but raises another error type. The docstring "
                "(and torch) raise IndexError ('Target 5 is out of bounds.'), and code that catches that error "
                "relies on the type: raise IndexError.",
        quiz="targets#index-out-of-range",
        wrong=_value_error_for_range,
    ),
    Mistake(
        id="ex03.target-message-incomplete", function="cross_entropy",
        name="Refused a target out of range, but the message does not say which target",
        message="Your IndexError is right, but its message does not name the offending target. In a batch of "
                "thousands the reader cannot tell which label is wrong, nor how: put the value in it, as torch's "
                "'Target 5 is out of bounds.' does.",
        quiz="targets#index-out-of-range",
        wrong=_range_message_without_target,
    ),
    Mistake(
        id="ex03.batch-size-not-checked", function="cross_entropy",
        name="Did not compare the target's batch size with the logits'",
        message="Given 4 rows of logits and 3 targets your cross_entropy returned a value: indexing or gather "
                "paired the targets with the first rows and silently dropped (or repeated) the rest. A missing "
                "sample is a bug upstream: compare target.shape[0] with logits.shape[0] and raise ValueError.",
        quiz="targets#target-shape",
        wrong=_batch_unchecked,
    ),
]

"""Mistakes learners make writing focal loss: each a wrong `focal_loss`, most of them the
reference with one wrong part (`_focal`), some recognised by a signature of the error.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Evidence, Mistake, behaves_like, upcast
from lossgrade.misconceptions._ex09_custom import _pick

Tensor = torch.Tensor
REDUCTIONS = ("mean", "sum", "none")
PerSample = Callable[[Tensor, Tensor, float, Tensor], Tensor]  # (logits, target, gamma, alpha_t) -> (N,)


def _focal(per_sample: PerSample, normalise: bool = False) -> Callable[..., Tensor]:
    """A focal_loss that validates and reduces like the reference, around one wrong part."""

    def wrong(input: Tensor, target: Tensor, gamma: float = 2.0, alpha: Optional[Tensor] = None,
              reduction: str = "mean") -> Tensor:
        if reduction not in REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}")
        if ((target < 0) | (target >= input.shape[-1])).any():
            raise IndexError("Target out of bounds.")
        alpha_t = torch.ones_like(input[..., 0]) if alpha is None else alpha[target]
        loss = per_sample(input, target, gamma, alpha_t)
        if reduction == "none":
            return loss
        if reduction == "sum":
            return loss.sum()
        return loss.sum() / alpha_t.sum() if normalise else loss.mean()

    return wrong


def _right(input: Tensor, target: Tensor, gamma: float, alpha_t: Tensor) -> Tensor:
    log_p = _pick(torch.log_softmax(input, -1), target)
    return -alpha_t * (1 - log_p.exp()) ** gamma * log_p


def _every_class(input: Tensor, target: Tensor, gamma: float, alpha_t: Tensor) -> Tensor:
    log_probs = torch.log_softmax(input, -1)
    return -alpha_t * ((1 - log_probs.exp()) ** gamma * log_probs).sum(-1)


def _sigmoid_per_class(input: Tensor, target: Tensor, gamma: float, alpha_t: Tensor) -> Tensor:
    """torchvision's sigmoid focal loss on one-hot rows, summed over the classes."""
    hot = F.one_hot(target, input.shape[-1]).to(input.dtype)
    p = torch.sigmoid(input)
    bce = F.binary_cross_entropy_with_logits(input, hot, reduction="none")
    p_t = p * hot + (1 - p) * (1 - hot)
    return alpha_t * (bce * (1 - p_t) ** gamma).sum(-1)


def _sigmoid_true_class(input: Tensor, target: Tensor, gamma: float, alpha_t: Tensor) -> Tensor:
    """p_n = sigmoid(logit of the true class), the binary focal loss on that logit alone."""
    log_p = F.logsigmoid(_pick(input, target))
    return -alpha_t * (1 - log_p.exp()) ** gamma * log_p


def _like_any(*wrongs: Callable[..., Tensor]) -> Callable[[Evidence], bool]:
    """A signature: the learner's result behaves like one of these variants of one mistake."""
    def matches(evidence: Evidence) -> bool:
        for wrong in wrongs:
            try:
                with torch.no_grad():
                    value = wrong(*evidence.args, **evidence.kwargs)
            except Exception:  # noqa: BLE001 - a variant that cannot take these inputs
                continue
            if isinstance(value, Tensor) and behaves_like(evidence.got, value.to(evidence.got.dtype), evidence.expected):
                return True
        return False
    return matches


def _unvalidated_reduction(input: Tensor, target: Tensor, gamma: float = 2.0, alpha: Tensor | None = None,
                           reduction: str = "mean") -> Tensor:
    """The right focal loss that never checks `reduction`: any other name gives the (N,) losses."""
    alpha_t = torch.ones_like(input[..., 0]) if alpha is None else alpha[target]
    loss = _right(input, target, gamma, alpha_t)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _log_of_probability(input: Tensor, target: Tensor, gamma: float, alpha_t: Tensor) -> Tensor:
    p = _pick(torch.softmax(input, -1), target)
    return -alpha_t * (1 - p) ** gamma * torch.log(p)


def _log_floor(evidence: Evidence) -> bool:
    """log(p + eps) or log(p.clamp(min=eps)): right wherever p is an ordinary number, and, where p
    underflowed to 0 (log p below -30), each sample charged -w (1 - p) ** gamma * log(eps) for
    one eps between 1e-13 and 1e-4. Read from the per-sample losses, or from their mean or sum."""
    input, target = evidence.args[0].detach().double().cpu(), evidence.args[1].cpu()
    kwargs = evidence.kwargs
    gamma, alpha = float(kwargs.get("gamma", 2.0)), kwargs.get("alpha")
    reduction = kwargs.get("reduction", "mean")
    got = evidence.got.detach().double().cpu()
    if not bool(torch.isfinite(got).all()):
        return False
    log_p = _pick(torch.log_softmax(input, -1), target)
    weight = torch.ones_like(log_p) if alpha is None else alpha.detach().double().cpu()[target]
    scale = -weight * (1 - log_p.exp()) ** gamma  # per sample: loss = scale * log p
    floored = log_p < -30
    if not bool(floored.any()) or not bool((scale[floored] != 0).all()):
        return False
    lo, hi = -30.0, -9.0  # log(1e-13), log(1.2e-4)
    if reduction == "none":
        if got.shape != log_p.shape:
            return False
        rest = ~floored
        if not bool(torch.isclose(got[rest], (scale * log_p)[rest], rtol=1e-3, atol=1e-6).all()):
            return False
        floors = got[floored] / scale[floored]
        return bool(((floors > lo) & (floors < hi)).all()) and float(floors.max() - floors.min()) < 1e-2
    if got.dim() != 0 or reduction not in ("mean", "sum"):
        return False
    divide = len(log_p) if reduction == "mean" else 1
    base = float((scale * log_p)[~floored].sum()) / divide
    coefficient = float(scale[floored].sum()) / divide
    floor = (float(got) - base) / coefficient
    return lo < floor < hi


def _log_of_probability_matches(evidence: Evidence) -> bool:
    """The exact mistake (log of an underflowed p: inf), or its variant with an epsilon."""
    wrong = _focal(_log_of_probability)
    try:
        with torch.no_grad():
            exact = wrong(*evidence.args, **evidence.kwargs)
    except Exception:  # noqa: BLE001 - inputs this mistake cannot take
        exact = None
    if isinstance(exact, torch.Tensor) and behaves_like(evidence.got, exact.to(evidence.got.dtype), evidence.expected):
        return True
    return _log_floor(evidence)


def _mean_over_elements(input: Tensor, target: Tensor, gamma: float = 2.0, alpha: Tensor | None = None,
                        reduction: str = "mean") -> Tensor:
    """The right focal loss, but 'mean' over the (N, C) one-hot-masked table: divided by N * C."""
    loss = _focal(_right)(input, target, gamma, alpha, "sum" if reduction == "mean" else reduction)
    return loss / input.numel() if reduction == "mean" else loss


def _p_to_gamma(input: Tensor, target: Tensor, gamma: float, alpha_t: Tensor) -> Tensor:
    log_p = _pick(torch.log_softmax(input, -1), target)
    return -alpha_t * log_p.exp() ** gamma * log_p


def _gamma_multiplies(input: Tensor, target: Tensor, gamma: float, alpha_t: Tensor) -> Tensor:
    log_p = _pick(torch.log_softmax(input, -1), target)
    return -alpha_t * (1 - log_p.exp()) * gamma * log_p


def _default_gamma_one(input: Tensor, target: Tensor, gamma: float = 1.0, alpha: Tensor | None = None,
                       reduction: str = "mean") -> Tensor:
    return _focal(_right)(input, target, gamma, alpha, reduction)


def _other_default_gamma(evidence: Evidence) -> bool:
    """Called without gamma, the learner's loss is the focal loss for another gamma than 2."""
    if "gamma" in evidence.kwargs or len(evidence.args) > 2 or evidence.expected is None:
        return False
    kwargs = {k: v for k, v in evidence.kwargs.items() if k in ("alpha", "reduction")}
    with torch.no_grad():
        for gamma in (0.0, 0.5, 1.0, 1.5, 2.5, 3.0, 5.0):
            value = _focal(_right)(*evidence.args, gamma=gamma, **kwargs)
            if behaves_like(evidence.got, value.to(evidence.got.dtype), evidence.expected):
                return True
    return False


def _gamma_ignored(input: Tensor, target: Tensor, gamma: float, alpha_t: Tensor) -> Tensor:
    log_p = _pick(torch.log_softmax(input, -1), target)
    return -alpha_t * (1 - log_p.exp()) * log_p


def _no_minus(input: Tensor, target: Tensor, gamma: float, alpha_t: Tensor) -> Tensor:
    return -_right(input, target, gamma, alpha_t)


def _factor_detached(input: Tensor, target: Tensor, gamma: float, alpha_t: Tensor) -> Tensor:
    log_p = _pick(torch.log_softmax(input, -1), target)
    return -alpha_t * ((1 - log_p.exp()) ** gamma).detach() * log_p


def _naive_softmax(input: Tensor, target: Tensor, gamma: float, alpha_t: Tensor) -> Tensor:
    exps = input.exp()
    p = _pick(exps / exps.sum(-1, keepdim=True), target)
    return -alpha_t * (1 - p) ** gamma * torch.log(p)


def _alpha_wrong_index(pick: Callable[[Tensor, Tensor], Tensor]) -> Callable[..., Tensor]:
    """A focal_loss whose alpha weights each sample by `pick(input, target)`, not by alpha[target]."""

    def wrong(input: Tensor, target: Tensor, gamma: float = 2.0, alpha: Tensor | None = None,
              reduction: str = "mean") -> Tensor:
        weights = torch.ones_like(input[..., 0]) if alpha is None else alpha[pick(input, target)]
        return _focal(lambda x, t, g, a: weights * _right(x, t, g, torch.ones_like(a)))(
            input, target, gamma, None, reduction)

    return wrong


def _unchecked(input: Tensor, target: Tensor, gamma: float = 2.0, alpha: Tensor | None = None,
               reduction: str = "mean") -> Tensor:
    """The right focal loss with no bounds check: gather itself refuses -1 and C, with a RuntimeError."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}")
    alpha_t = torch.ones_like(input[..., 0]) if alpha is None else alpha[target]
    loss = _right(input, target, gamma, alpha_t)
    return loss if reduction == "none" else (loss.sum() if reduction == "sum" else loss.mean())


MISCONCEPTIONS = [
    Mistake(
        id="ex09.alpha-normalises", function="focal_loss",
        name="Divided the 'mean' by the total alpha, as F.cross_entropy does with its weights",
        message="With alpha, your 'mean' is sum(alpha[t_n] * FL_n) / sum(alpha[t_n]). In focal loss alpha only "
                "scales each sample's loss, and 'mean' divides by the number of samples, as torchvision's "
                "sigmoid_focal_loss does. So a larger alpha makes a class count more in the mean.",
        quiz="targets#ignore-index-in-mean",
        wrong=_focal(_right, normalise=True),
    ),
    Mistake(
        id="ex09.focal-every-class", function="focal_loss",
        name="Applied (1 - p) ** gamma * log p to every class and summed them",
        message="Your focal loss adds up -(1 - p_c) ** gamma * log p_c over all C classes. Like cross-entropy, "
                "focal loss charges each sample for its true class only: p_n is the probability of class t_n, "
                "and the other classes enter through the softmax that makes p_n.",
        quiz="logits#cross-entropy-equals-nll-of-log-softmax",
        wrong=_focal(_every_class),
    ),
    Mistake(
        id="ex09.sigmoid-focal", function="focal_loss",
        name="Used the sigmoid (per-class, binary) focal loss instead of the softmax one",
        message="Your focal loss treats every class as its own yes/no question (sigmoid and BCE per class, as in "
                "torchvision's sigmoid_focal_loss). This exercise's focal loss is multi-class: p_n comes from the "
                "softmax over the C logits, so with gamma = 0 it is exactly cross-entropy.",
        quiz="choosing-a-loss#multi-label",
        wrong=_focal(_sigmoid_per_class),
        matches=_like_any(_focal(_sigmoid_per_class), _focal(_sigmoid_true_class)),
    ),
    Mistake(
        id="ex09.alpha-ignored", function="focal_loss",
        name="Accepted alpha and never used it",
        message="Your focal loss is right without alpha, and the same with it: alpha never reaches the result. "
                "Each sample's loss is multiplied by alpha[t_n], the weight of its own true class (index alpha "
                "with the targets), before the reduction.",
        quiz="targets#ignore-index-in-mean",
        wrong=_focal(lambda input, target, gamma, alpha_t: _right(input, target, gamma, torch.ones_like(alpha_t))),
    ),
    Mistake(
        id="ex09.no-reduction-check", function="focal_loss",
        name="Did not refuse an unknown `reduction`",
        message="Given reduction='average' (or 'MEAN') your focal_loss returned a value (or raised something "
                "other than ValueError). A typo in an argument should stop the program with a clear message, "
                "not silently pick another behaviour: compare reduction with 'mean', 'sum' and 'none' first and "
                "raise ValueError otherwise.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_unvalidated_reduction,
    ),
    Mistake(
        id="ex09.log-of-probability", function="focal_loss",
        name="Computed p first and took its log, which is -inf when p underflows to 0",
        message="Your focal loss takes log(p) of a probability computed first. For logits like 1e4 a true class "
                "far below the maximum has p = exp(-1e4), which rounds to 0, and log(0) = -inf makes the loss "
                "inf. Get log p from a stable log-softmax, and p from exp(log p).",
        quiz="logits#naive-softmax-overflow",
        wrong=_focal(_log_of_probability),
        matches=_log_of_probability_matches,
    ),
    Mistake(
        id="ex09.focal-p-to-gamma", function="focal_loss",
        name="Used p ** gamma where focal loss has (1 - p) ** gamma",
        message="Your focal factor is p_n ** gamma, which is near 1 for an easy sample (p near 1) and near 0 for "
                "a hard one: it turns the hard samples down, the opposite of focal loss. (1 - p_n) ** gamma is "
                "small where the model is already right and near 1 where it is wrong.",
        quiz="loss-scales#confident-and-wrong",
        wrong=_focal(_p_to_gamma),
    ),
    Mistake(
        id="ex09.gamma-multiplies", function="focal_loss",
        name="Multiplied by gamma instead of raising to the power gamma",
        message="Your focal factor is (1 - p_n) * gamma. gamma is an exponent: (1 - p_n) ** gamma. With gamma = 0 "
                "your loss is 0 everywhere, where focal loss should be plain cross-entropy.",
        quiz="loss-scales#confident-and-wrong",
        wrong=_focal(_gamma_multiplies),
    ),
    Mistake(
        id="ex09.gamma-ignored", function="focal_loss",
        name="Left gamma out: the factor is (1 - p) whatever gamma is",
        message="Your focal factor is (1 - p_n), the value for gamma = 1, whatever gamma the caller passes. The "
                "factor is (1 - p_n) ** gamma: gamma = 0 must give plain cross-entropy, and gamma = 2 (the "
                "default) turns an easy sample at p = 0.9 down 100 times, not 10.",
        quiz="loss-scales#confident-and-wrong",
        wrong=_focal(_gamma_ignored),
    ),
    Mistake(
        id="ex09.default-gamma", function="focal_loss",
        name="The default gamma is not 2",
        message="Called without gamma, your focal loss uses another gamma than the 2.0 that the signature "
                "promises (`gamma: float = 2.0`): with gamma given it is right. Keep the default of the stub's "
                "signature.",
        quiz="loss-scales#confident-and-wrong",
        wrong=_default_gamma_one,
        matches=_other_default_gamma,
    ),
    Mistake(
        id="ex09.focal-sign", function="focal_loss",
        name="Left out the minus sign: the loss is negative",
        message="log p_n is negative (p_n is below 1), so focal loss is -(1 - p_n) ** gamma * log p_n: a positive "
                "number. Without the minus, minimising your loss would make the model less sure of the true class.",
        quiz="loss-scales#confident-and-wrong",
        wrong=_focal(_no_minus),
    ),
    Mistake(
        id="ex09.focal-factor-detached", function="focal_loss",
        name="Detached the focal factor, so its gradient is lost",
        message="Your loss has the right value, but its gradient treats (1 - p_n) ** gamma as a constant (a "
                ".detach(), .item() or torch.no_grad() around it). The factor depends on the logits too, and "
                "focal loss's gradient includes that dependence; compute it from the logits like the rest.",
        quiz="training-step#loss-item",
        wrong=_focal(_factor_detached),
    ),
    Mistake(
        id="ex09.focal-naive-softmax", function="focal_loss",
        name="Exponentiated the raw logits, so large logits give nan",
        message="Your softmax computes exp() of the logits as they are: exp(1e4) is inf, and inf / inf is nan. "
                "Get log p_n from a stable log-softmax (subtract each row's maximum first) and p_n from "
                "exp(log p_n).",
        quiz="logits#naive-softmax-overflow",
        wrong=_focal(_naive_softmax),
    ),
    Mistake(
        id="ex09.alpha-by-sample", function="focal_loss",
        name="Multiplied by alpha as it is, per sample, instead of alpha[target]",
        message="Your focal loss weights sample n by alpha[n] (`alpha * loss`, which only runs when N equals C). "
                "alpha holds one weight per class: each sample gets the weight of its own true class, "
                "alpha[target].",
        quiz="targets#one-hot-to-cross-entropy",
        wrong=_alpha_wrong_index(lambda input, target: torch.arange(len(target))),
    ),
    Mistake(
        id="ex09.alpha-on-predicted-class", function="focal_loss",
        name="Weighted each sample by alpha of its predicted class, not of its true class",
        message="Your focal loss takes alpha at the class the model predicts (the argmax of the logits). alpha "
                "belongs to the true class: alpha[target], so that a rare class's samples weigh more whatever "
                "the model currently guesses.",
        quiz="targets#one-hot-to-cross-entropy",
        wrong=_alpha_wrong_index(lambda input, target: input.argmax(-1)),
    ),
    Mistake(
        id="ex09.focal-mean-over-elements", function="focal_loss",
        name="'mean' divided by N * C: averaged the one-hot-masked table of every class",
        message="Your 'mean' is the sum of the per-sample losses divided by N * C, as .mean() of an (N, C) table "
                "masked by the one-hot targets gives. Each sample has one loss, at its true class: pick it "
                "(gather, or sum the masked row) and average the N values.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_mean_over_elements,
    ),
    Mistake(
        id="ex09.no-bounds-check", function="focal_loss",
        name="Did not check the targets: an index outside [0, C) raised something else",
        message="focal_loss promises IndexError for a target outside [0, C). Indexing or gather with -1 or C "
                "raises a RuntimeError deep inside torch (or, for -1 with plain indexing, silently picks the "
                "last class). Check 0 <= t < C first and raise IndexError naming the target.",
        quiz="targets#index-out-of-range",
        wrong=_unchecked,
    ),
    upcast("ex09", "focal_loss", _focal(_right)),
]

"""Mistakes learners make writing `F.kl_div` and the distillation loss.

The wrong implementations run in the trusted process, so they may use torch's own
functions; each reproduces one mistake and is otherwise right. The argument order, the
reductions, KL's direction and the T^2 of distillation are the myths this exercise busts.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import (
    Evidence, Mistake, behaves_like, detached, inputs_modified, python_number, upcast,
)

QUIZ = "kl-and-sequences"
KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def _right(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", log_target: bool = False) -> Any:
    import warnings

    with warnings.catch_warnings():  # torch's "'mean' divides the total loss by ..." warning
        warnings.simplefilter("ignore")
        return F.kl_div(input, target, reduction=reduction, log_target=log_target)


def _reduced(terms: torch.Tensor, reduction: str, batch: int | None = None) -> torch.Tensor:
    """torch's four reductions of elementwise terms; `batch` replaces input.shape[0]."""
    if reduction not in KL_REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}")
    if reduction == "none":
        return terms
    if reduction == "sum":
        return terms.sum()
    if reduction == "mean":
        return terms.mean()
    total = terms.sum()
    return total / (batch if batch is not None else terms.shape[0]) if terms.dim() else total


def _probability_target(target: torch.Tensor, log_target: bool) -> torch.Tensor:
    return target.exp() if log_target else target


def _terms_with(formula: Any) -> Any:
    """A wrong kl_div whose elementwise terms are formula(input, p) (p the target as
    probabilities), reduced the right way."""
    def wrong(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", log_target: bool = False) -> Any:
        return _reduced(formula(input, _probability_target(target, log_target)), reduction)
    return wrong


# --- kl_div
def _zero_target_nan(input: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return p * (p.log() - input)  # 0 * (-inf) = nan where p == 0


def _log_of_input(input: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return torch.xlogy(p, p) - p * input.log()  # input taken for probabilities: log of a log


def _reversed(input: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return input.exp() * (input - p.log())  # KL(q || p): the other direction


def _cross_entropy(input: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return -p * input  # no p log p: cross-entropy, KL plus the target's entropy


def _input_clamped(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", log_target: bool = False) -> Any:
    return _right(input.clamp(min=-100.0), target, reduction, log_target)


def _mean_is_batchmean(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                       log_target: bool = False) -> Any:
    return _right(input, target, "batchmean" if reduction == "mean" else reduction, log_target)


def _batchmean_is_mean(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                       log_target: bool = False) -> Any:
    return _right(input, target, "mean" if reduction == "batchmean" else reduction, log_target)


def _batchmean_by_last(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                       log_target: bool = False) -> Any:
    if reduction != "batchmean" or input.dim() == 0:
        return _right(input, target, reduction, log_target)
    return _right(input, target, "sum", log_target) / input.shape[-1]


def _log_target_ignored(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                        log_target: bool = False) -> Any:
    return _reduced(torch.xlogy(target, target) - target * input, reduction)


def _log_target_not_exponentiated(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                                  log_target: bool = False) -> Any:
    if not log_target:
        return _right(input, target, reduction)
    return _reduced(target * (target - input), reduction)


def _none_sums_classes(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                       log_target: bool = False) -> Any:
    terms = _right(input, target, "none", log_target)
    return terms.sum(-1) if reduction == "none" and terms.dim() > 1 else _right(input, target, reduction, log_target)


def _summed_per_sample(evidence: Evidence) -> bool:
    """reduction='none' returned one value per sample (the sum over the classes) instead
    of the elementwise terms."""
    input, target = evidence.args[:2]
    if evidence.kwargs.get("reduction") != "none" or evidence.got.shape != input.shape[:-1] or input.dim() < 2:
        return False
    return behaves_like(evidence.got, _none_sums_classes(*evidence.args, **evidence.kwargs).to(evidence.got.dtype))


def _reduction_unchecked(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                         log_target: bool = False) -> Any:
    return _right(input, target, reduction if reduction in KL_REDUCTIONS else "sum", log_target)


# --- distillation_loss
def _distill(student: torch.Tensor, teacher: torch.Tensor, temperature: float, *, reduction: str = "batchmean",
             factor: float | None = None, swap: bool = False, soften_teacher: bool = True,
             soften_student: bool = True, multiply: bool = False, log_of_softmax: bool = False,
             check: bool = True) -> torch.Tensor:
    if check and not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if swap:
        student, teacher = teacher, student
    if multiply:
        s, t = student * temperature, teacher * temperature
    else:
        s = student / temperature if soften_student else student
        t = teacher / temperature if soften_teacher else teacher
    log_q = torch.softmax(s, dim=-1).log() if log_of_softmax else torch.log_softmax(s, dim=-1)
    kl = _right(log_q, torch.softmax(t, dim=-1), reduction)
    return kl * (temperature ** 2 if factor is None else factor)


def _right_distill(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    return _distill(student, teacher, temperature)


MISCONCEPTIONS = [
    # --- kl_div
    Mistake(
        id="ex10.zero-target-nan", function="kl_div",
        name="Computed target * (log target - input) as written: a 0 target gives nan",
        message="Where the target is 0 your terms are nan: log(0) is -inf and 0 * -inf is nan in floating point, "
                "and one nan makes the whole loss nan. Mathematically p log p goes to 0 as p goes to 0, so a "
                "class the target rules out costs exactly 0 (one-hot targets are full of them). Use "
                "torch.xlogy(target, target), or torch.where on target > 0.",
        quiz=f"{QUIZ}#zero-target",
        wrong=_terms_with(_zero_target_nan),
    ),
    Mistake(
        id="ex10.log-of-input", function="kl_div",
        name="Took the log of `input`, which already holds log-probabilities",
        message="Your kl_div takes log(input), as if input held probabilities. In torch's kl_div the input is "
                "the model's log-probabilities (log_softmax's output, every value <= 0): the log of a negative "
                "number is nan. Use input as it is; only the target is a probability.",
        quiz=f"{QUIZ}#argument-order",
        wrong=_terms_with(_log_of_input),
    ),
    Mistake(
        id="ex10.direction-reversed", function="kl_div",
        name="Computed KL(input || target), the other direction",
        message="Your terms are exp(input) * (input - log target): the divergence of the target from the model, "
                "KL(q || p). torch's kl_div(input, target) is KL(p || q) with p the target: each term is "
                "target * (log target - input). KL is not symmetric; the two directions are different losses "
                "(one covers every mode of p, the other picks one).",
        quiz=f"{QUIZ}#kl-direction",
        wrong=_terms_with(_reversed),
    ),
    Mistake(
        id="ex10.cross-entropy-not-kl", function="kl_div",
        name="Left out the target * log(target) term: computed cross-entropy, not KL",
        message="Your terms are -target * input: the cross-entropy of the model against the target. KL is "
                "cross-entropy minus the target's own entropy, so it also needs target * log(target): with it, "
                "a model that matches the target exactly scores 0. The gradient for the input is the same, but "
                "the value is not the KL divergence.",
        quiz=f"{QUIZ}#kl-versus-cross-entropy",
        wrong=_terms_with(_cross_entropy),
    ),
    Mistake(
        id="ex10.input-clamped", function="kl_div",
        name="Clamped the log-probabilities (at -100, as BCE does), which changes the KL",
        message="Your kl_div clamps the input: where the model gives a class a log-probability below the clamp "
                "and the target still puts mass on it, your term is far too small. That is exactly where the KL "
                "must be large (the model rules out what the target expects). kl_div needs no clamp: the input "
                "is a finite log-probability, and a target of 0 is the only special case.",
        quiz=f"{QUIZ}#zero-target",
        wrong=_input_clamped,
    ),
    Mistake(
        id="ex10.mean-is-batchmean", function="kl_div",
        name="Made reduction='mean' divide by the batch size (that is 'batchmean')",
        message="Your 'mean' divides the sum by input.shape[0]. In torch 'mean' divides by EVERY element, N * C "
                "(and warns that this is not the KL divergence); 'batchmean' is the one that divides by N. Keep "
                "both as torch has them, so that code ported to or from torch means the same thing.",
        quiz=f"{QUIZ}#batchmean-versus-mean",
        wrong=_mean_is_batchmean,
    ),
    Mistake(
        id="ex10.batchmean-is-mean", function="kl_div",
        name="Made reduction='batchmean' divide by every element",
        message="Your 'batchmean' divides by the number of elements, N * C. 'batchmean' divides the sum by the "
                "batch size input.shape[0] only: the KL of each sample is a sum over its classes, averaged over "
                "the samples. Divided by C as well, the loss (and its gradient) shrinks with the number of "
                "classes.",
        quiz=f"{QUIZ}#batchmean-versus-mean",
        wrong=_batchmean_is_mean,
    ),
    Mistake(
        id="ex10.batchmean-by-classes", function="kl_div",
        name="Made reduction='batchmean' divide by the size of the last dimension",
        message="Your 'batchmean' divides the sum by input.shape[-1], the number of classes. The batch is "
                "dimension 0: divide by input.shape[0].",
        quiz=f"{QUIZ}#batchmean-versus-mean",
        wrong=_batchmean_by_last,
    ),
    Mistake(
        id="ex10.log-target-ignored", function="kl_div",
        name="Ignored log_target=True: read log-probability targets as probabilities",
        message="With log_target=True the target holds log-probabilities, but your kl_div uses it as "
                "probabilities (the terms are target * (log target - input) of a negative target: nan). With "
                "log_target the probability is exp(target) and its log is the target itself: "
                "exp(target) * (target - input).",
        quiz=f"{QUIZ}#argument-order",
        wrong=_log_target_ignored,
    ),
    Mistake(
        id="ex10.log-target-not-exponentiated", function="kl_div",
        name="With log_target=True, multiplied by the log-target instead of its exp",
        message="With log_target=True your terms are target * (target - input): the log-probability was used "
                "as the weight. The weight of each term is the probability, exp(target); only the log inside "
                "the bracket is the target itself.",
        quiz=f"{QUIZ}#argument-order",
        wrong=_log_target_not_exponentiated,
    ),
    Mistake(
        id="ex10.none-sums-classes", function="kl_div",
        name="Returned one value per sample for reduction='none' instead of every term",
        message="Your reduction='none' sums over the classes and returns one KL per sample. torch's 'none' "
                "returns the elementwise terms, of the input's shape; summing them is what 'sum' and "
                "'batchmean' do.",
        quiz=f"{QUIZ}#batchmean-versus-mean",
        wrong=_none_sums_classes,
        matches=_summed_per_sample,
    ),
    Mistake(
        id="ex10.reduction-not-checked", function="kl_div",
        name="Did not refuse an unknown `reduction`",
        message="Given reduction='average' (or 'batch_mean') your kl_div returned a value instead of raising "
                "ValueError. With four names that are easy to mistype, a typo must stop the program, not "
                "silently pick another reduction.",
        quiz=f"{QUIZ}#batchmean-versus-mean",
        wrong=_reduction_unchecked,
    ),
    upcast("ex10", "kl_div", _right),
    python_number("ex10", "kl_div", _right),
    detached("ex10", "kl_div", _right),
    inputs_modified("ex10", "kl_div", _right),
    # --- distillation_loss
    Mistake(
        id="ex10.no-t-squared", function="distillation_loss",
        name="Left out the T² factor of the distillation loss",
        message="Your loss is the KL of the softened distributions without the factor T². Dividing the logits "
                "by T shrinks the gradients by about 1/T², so without T² a higher temperature silently means a "
                "smaller learning rate for the distillation term (and its balance against the hard-label loss "
                "changes with T). Multiply by T ** 2.",
        quiz=f"{QUIZ}#t-squared",
        wrong=lambda s, t, temperature: _distill(s, t, temperature, factor=1.0),
    ),
    Mistake(
        id="ex10.t-not-squared", function="distillation_loss",
        name="Multiplied the distillation loss by T instead of T²",
        message="Your loss is T times the KL: the factor must be T ** 2, since both the student's and the "
                "teacher's logits are divided by T and the gradient shrinks by about 1/T².",
        quiz=f"{QUIZ}#t-squared",
        wrong=lambda s, t, temperature: _distill(s, t, temperature, factor=temperature),
    ),
    Mistake(
        id="ex10.distill-direction-reversed", function="distillation_loss",
        name="Gave the teacher as kl_div's input and the student as its target",
        message="Your loss is KL(student || teacher): the teacher's log-probabilities went in as kl_div's input "
                "and the student's probabilities as its target. kl_div(input, target) is KL(target || input): "
                "the distribution to imitate (the teacher's) is the target, the model being trained (the "
                "student's log-probabilities) is the input.",
        quiz=f"{QUIZ}#kl-direction",
        wrong=lambda s, t, temperature: _distill(s, t, temperature, swap=True),
    ),
    Mistake(
        id="ex10.distill-mean", function="distillation_loss",
        name="Used reduction='mean' (divides by N * C) instead of 'batchmean'",
        message="Your distillation loss is the KL divided by the number of classes as well: reduction='mean' "
                "divides by every element. torch warns about exactly this; the KL of a batch is 'batchmean', "
                "the sum divided by the number of samples.",
        quiz=f"{QUIZ}#batchmean-versus-mean",
        wrong=lambda s, t, temperature: _distill(s, t, temperature, reduction="mean"),
    ),
    Mistake(
        id="ex10.distill-sum", function="distillation_loss",
        name="Summed the KL over the batch instead of averaging it",
        message="Your distillation loss is the sum over the samples: it grows with the batch size, and so does "
                "the gradient. 'batchmean' divides the sum by the number of samples.",
        quiz=f"{QUIZ}#batchmean-versus-mean",
        wrong=lambda s, t, temperature: _distill(s, t, temperature, reduction="sum"),
    ),
    Mistake(
        id="ex10.teacher-not-softened", function="distillation_loss",
        name="Divided only the student's logits by T, not the teacher's",
        message="Your teacher distribution is softmax(teacher_logits), without the temperature. Distillation "
                "softens BOTH distributions with the same T: the teacher's small probabilities for the wrong "
                "classes (which classes look alike) are what the student learns from, and T brings them out.",
        quiz=f"{QUIZ}#t-squared",
        wrong=lambda s, t, temperature: _distill(s, t, temperature, soften_teacher=False),
    ),
    Mistake(
        id="ex10.student-not-softened", function="distillation_loss",
        name="Divided only the teacher's logits by T, not the student's",
        message="Your student distribution is log_softmax(student_logits), without the temperature, matched "
                "against the teacher's softened one. The student must be softened with the same T, so that it "
                "can match the teacher's soft distribution at all; at prediction time it is used at T = 1.",
        quiz=f"{QUIZ}#t-squared",
        wrong=lambda s, t, temperature: _distill(s, t, temperature, soften_student=False),
    ),
    Mistake(
        id="ex10.temperature-multiplied", function="distillation_loss",
        name="Multiplied the logits by T instead of dividing them",
        message="Your logits are multiplied by the temperature: a T above 1 then SHARPENS both distributions "
                "instead of softening them, and the teacher's small probabilities, which distillation is "
                "about, vanish. Divide the logits by T.",
        quiz=f"{QUIZ}#t-squared",
        wrong=lambda s, t, temperature: _distill(s, t, temperature, multiply=True),
    ),
    Mistake(
        id="ex10.distill-log-of-softmax", function="distillation_loss",
        name="Took log(softmax(student / T)), which is -inf for unlikely classes",
        message="Your student log-probabilities are the log of a softmax: a class far below the best one has a "
                "probability that rounds to 0, its log is -inf, and the loss becomes inf or nan for large logits. "
                "Use log_softmax, which never takes the log of a rounded probability.",
        quiz="logits#naive-softmax-overflow",
        wrong=lambda s, t, temperature: _distill(s, t, temperature, log_of_softmax=True),
    ),
    Mistake(
        id="ex10.temperature-not-checked", function="distillation_loss",
        name="Did not refuse a temperature of 0 or below",
        message="Given temperature 0 (or a negative one) your distillation_loss returned a value: logits / 0 is "
                "inf or nan, and a negative T turns the distributions upside down. A temperature must be "
                "positive: raise ValueError otherwise.",
        quiz=f"{QUIZ}#t-squared",
        wrong=lambda s, t, temperature: _distill(s, t, temperature, check=False),
    ),
    python_number("ex10", "distillation_loss", _right_distill),
]

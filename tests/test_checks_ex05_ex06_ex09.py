"""The checks of ex05, ex06 and ex09 and their misconception catalogues, from the learner's side.

- Every catalogued mistake fails at least one check and is named there, and no failing
  check names a different mistake (graded in-process: the wrong implementations are ours).
- Correct but unusual learner files (loops, torch.where, torch.logsumexp, scatter, the
  learner's own ex03, a Function that saves the softmax) pass every check through the real
  sandbox, with no misconception named.
- Realistic wrong learner files fail with a message that names what went wrong, including
  a Function whose author made gradcheck "pass": the grader's own gradcheck is not fooled.
"""
from __future__ import annotations

import re

import pytest

from lossgrade.course import catalog
from lossgrade import misconceptions
from lossgrade.grading import selfcheck
from lossgrade.quiz import library
from lossgrade.core.results import ExerciseResult, Outcome, Status

EXERCISES = {"ex05": "ex05_targets", "ex06": "ex06_gradients", "ex09": "ex09_custom"}
MISTAKES = [(exercise, mistake) for exercise, module in EXERCISES.items()
            for mistake in misconceptions.catalogue(module)]


def _failed(result: ExerciseResult) -> list:
    return [c for c in result.checks if c.outcome not in (Outcome.PASSED, Outcome.SKIPPED)]


# --- the catalogue ---------------------------------------------------------------------
@pytest.mark.parametrize("exercise, mistake", MISTAKES, ids=[m.id for _, m in MISTAKES])
def test_every_catalogued_mistake_is_caught_and_named(exercise, mistake):
    failed = _failed(selfcheck.grade_mistake(catalog.resolve(exercise), mistake.function, mistake.wrong))
    assert failed, f"{mistake.id} passes every check"
    named = {c.id: c.misconception.id for c in failed if c.misconception}
    assert mistake.id in named.values(), f"{mistake.id} is never named; failing checks: {[c.id for c in failed]}"
    assert set(named.values()) == {mistake.id}, f"{mistake.id} is mistaken for another: {named}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_catalogue_entries_are_well_formed(exercise):
    mistakes = misconceptions.catalogue(EXERCISES[exercise])
    functions = catalog.resolve(exercise).functions
    questions = library.question_ids()
    assert len(mistakes) >= 4
    assert len({(m.id, m.function) for m in mistakes}) == len(mistakes)  # one upcast entry per function
    for mistake in mistakes:
        assert re.fullmatch(rf"{exercise}\.[a-z0-9]+(-[a-z0-9]+)*", mistake.id), mistake.id
        assert mistake.function in functions and callable(mistake.wrong)
        assert "\n" not in mistake.name and mistake.message.endswith(".")
        quiz, _, question = (mistake.quiz or "").partition("#")
        assert question in questions.get(quiz, []), f"{mistake.id}: no quiz question {mistake.quiz}"


# --- correct but unusual learner files, through the sandbox ------------------------------
EX05_LOOPS_AND_LOGSUMEXP = '''
import torch

def one_hot(labels, num_classes):
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise ValueError(f"label {labels[outside][0].item()} is not in [0, {num_classes})")
    return torch.eye(num_classes, device=labels.device)[labels]

def cross_entropy_full(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    if label_smoothing > 1:
        raise RuntimeError("label_smoothing must be between 0.0 and 1.0")
    single = input.dim() == 1
    x = input.unsqueeze(0) if single else input
    classes = x.shape[1]
    if weight is not None and tuple(weight.shape) != (classes,):
        raise RuntimeError(f"weight tensor should be defined for all {classes} classes")
    w = torch.ones(classes, dtype=x.dtype, device=x.device) if weight is None else weight
    rows = x.movedim(1, -1).reshape(-1, classes)  # one row of C logits per sample and position
    log_probs = rows - torch.logsumexp(rows, dim=1, keepdim=True)
    eps = max(label_smoothing, 0.0)
    if target.shape == input.shape:
        if not target.is_floating_point():
            raise RuntimeError("probability targets must be floating point")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        y = (target.unsqueeze(0) if single else target).movedim(1, -1).reshape(-1, classes)
        losses = -((y * (1 - eps) + eps / classes) * log_probs * w).sum(1)
        total, count, shape = losses.sum(), losses.numel(), x.shape[:1] + x.shape[2:]
    else:
        if target.dtype not in (torch.int64, torch.uint8):
            raise RuntimeError(f"expected Long or Byte targets, got {target.dtype}")
        if not single and (target.dim() == 0 or target.shape[0] != x.shape[0]):
            raise ValueError("input and target batch sizes differ")
        per_sample, weights = [], []
        for i, label in enumerate(target.reshape(-1).tolist()):
            if label == ignore_index:
                per_sample.append(log_probs.new_zeros(()))
                weights.append(log_probs.new_zeros(()))
                continue
            if not 0 <= label < classes:
                raise IndexError(f"Target {label} is out of bounds.")
            loss = -log_probs[i, label] * w[label]
            if eps:
                loss = (1 - eps) * loss - eps / classes * (log_probs[i] * w).sum()
            per_sample.append(loss)
            weights.append(w[label])
        losses = torch.stack(per_sample)
        total, count, shape = losses.sum(), torch.stack(weights).sum(), target.shape
    if reduction == "none":
        return losses.reshape(() if single else shape)
    return total / count if reduction == "mean" else total
'''

EX03_FOR_EX05 = '''
import torch

def log_softmax(logits, dim=-1):
    top = logits.max(dim=dim, keepdim=True).values
    return logits - top - (logits - top).exp().sum(dim=dim, keepdim=True).log()
'''

EX05_OWN_EX03_AND_WHERE = '''
import torch
from ex03_cross_entropy import log_softmax

def one_hot(labels, num_classes):
    labels = labels.long()
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        raise ValueError(f"labels must lie in [0, {num_classes}); got {labels[bad].min().item()}")
    rows = torch.zeros(*labels.shape, num_classes, device=labels.device)
    return rows.scatter_(-1, labels.unsqueeze(-1), 1.0)

def cross_entropy_full(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    if reduction not in {"mean", "sum", "none"}:
        raise ValueError(reduction)
    if label_smoothing > 1:
        raise RuntimeError("label_smoothing must be between 0.0 and 1.0")
    class_dim = 0 if input.dim() == 1 else 1
    classes = input.shape[class_dim]
    if weight is not None and weight.numel() != classes:
        raise RuntimeError("weight tensor should be defined either for all classes or no classes")
    lp = log_softmax(input, dim=class_dim).movedim(class_dim, -1)  # (..., C)
    w = torch.ones(classes, dtype=input.dtype, device=input.device) if weight is None else weight
    eps = label_smoothing if label_smoothing > 0 else 0.0
    if target.shape == input.shape:
        if not target.is_floating_point() or ignore_index >= 0:
            raise RuntimeError("probability targets: floating point, and no ignore_index")
        y = target.movedim(class_dim, -1) * (1 - eps) + eps / classes
        per = -(y * lp * w).sum(-1)
        denominator = per.new_tensor(float(per.numel()))
    else:
        if target.dtype not in (torch.long, torch.uint8):
            raise RuntimeError("class indices must be int64 or uint8")
        if input.dim() > 1 and (target.dim() == 0 or target.shape[0] != input.shape[0]):
            raise ValueError("batch sizes differ")
        t = target.long()
        valid = t != ignore_index
        bad = valid & ((t < 0) | (t >= classes))
        if bad.any():
            raise IndexError(f"Target {t[bad][0].item()} is out of bounds.")
        safe = torch.where(valid, t, torch.zeros_like(t))
        picked = lp.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
        nll = torch.where(valid, -picked * w[safe], 0.0)
        smooth = torch.where(valid, -(lp * w).sum(-1), 0.0)
        per = (1 - eps) * nll + (eps / classes) * smooth
        denominator = torch.where(valid, w[safe], 0.0).sum()
    if reduction == "none":
        return per
    return per.sum() / denominator if reduction == "mean" else per.sum()
'''

EX06_WHERE_AND_LOGSUMEXP = '''
import torch

def _same_shape(a, b, name):
    if a.shape != b.shape:
        raise ValueError(f"{name}: shapes {tuple(a.shape)} and {tuple(b.shape)} differ")

def mse_grad(input, target):
    _same_shape(input, target, "mse_grad")
    return (input - target) * (2.0 / input.numel())

def cross_entropy_grad(logits, target):
    rows = logits if logits.dim() == 2 else logits.unsqueeze(0)
    labels = target.reshape(-1).long()
    classes = rows.shape[1]
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        raise IndexError(f"Target {labels[bad][0].item()} is out of bounds.")
    probs = torch.exp(rows - torch.logsumexp(rows, dim=1, keepdim=True))
    hot = (labels.unsqueeze(1) == torch.arange(classes, device=rows.device)).to(rows.dtype)
    return ((probs - hot) / rows.shape[0]).reshape(logits.shape)

def bce_with_logits_grad(input, target):
    _same_shape(input, target, "bce_with_logits_grad")
    e = torch.exp(-input.abs())  # never overflows
    sigmoid = torch.where(input >= 0, 1 / (1 + e), e / (1 + e))
    return (sigmoid - target) / input.numel()
'''

EX09_EXPM1_AND_SAVED_SOFTMAX = '''
import torch

def focal_loss(input, target, gamma=2.0, alpha=None, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    t = target.long()
    if ((t < 0) | (t >= input.shape[-1])).any():
        raise IndexError("Target is out of bounds.")
    log_p = input.gather(-1, t.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(input, dim=-1)
    loss = -torch.pow(-torch.expm1(log_p), gamma) * log_p  # 1 - p, without cancellation
    if alpha is not None:
        loss = loss * alpha.gather(0, t)
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()

class CrossEntropyFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        ctx.save_for_backward(log_probs.exp(), target)
        return -log_probs.gather(1, target.unsqueeze(1)).mean()

    @staticmethod
    def backward(ctx, grad_output):
        probs, target = ctx.saved_tensors
        hot = torch.zeros_like(probs).scatter_(1, target.unsqueeze(1), 1.0)
        return (probs - hot) * (grad_output / probs.shape[0]), None
'''

UNUSUAL = [
    pytest.param("ex05", EX05_LOOPS_AND_LOGSUMEXP, None, id="ex05-loops-logsumexp-eye"),
    pytest.param("ex05", EX05_OWN_EX03_AND_WHERE, {"ex03_cross_entropy.py": EX03_FOR_EX05},
                 id="ex05-own-ex03-where-scatter"),
    pytest.param("ex06", EX06_WHERE_AND_LOGSUMEXP, None, id="ex06-where-logsumexp"),
    pytest.param("ex09", EX09_EXPM1_AND_SAVED_SOFTMAX, None, id="ex09-expm1-saved-softmax"),
]


@pytest.mark.parametrize("exercise, source, extra_files", UNUSUAL)
def test_correct_but_unusual_files_pass_every_check(grade_source, exercise, source, extra_files):
    result = grade_source(exercise, source, extra_files)
    assert [(c.id, c.feedback.message if c.feedback else "") for c in _failed(result)] == []
    assert result.status is Status.PASSED
    assert all(c.misconception is None for c in result.checks)


# --- realistic wrong learner files -----------------------------------------------------------
EX05_CALLS_TORCH = '''
import torch
import torch.nn.functional as F

def one_hot(labels, num_classes):
    if ((labels < 0) | (labels >= num_classes)).any():
        raise ValueError(f"labels {labels.tolist()} must lie in [0, {num_classes})")
    return (labels.unsqueeze(-1) == torch.arange(num_classes, device=labels.device)).float()

def cross_entropy_full(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    return F.cross_entropy(input, target, weight=weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)
'''

EX06_CALLS_BACKWARD = '''
import torch
import torch.nn.functional as F

def mse_grad(input, target):
    x = input.detach().clone()
    x.requires_grad = True
    F.mse_loss(x, target).backward()
    return x.grad

def cross_entropy_grad(logits, target):
    raise NotImplementedError

def bce_with_logits_grad(input, target):
    raise NotImplementedError
'''

EX06_CALLS_AUTOGRAD_GRAD = '''
import torch
import torch.nn.functional as F

def mse_grad(input, target):
    if input.shape != target.shape:
        raise ValueError(f"{tuple(input.shape)} != {tuple(target.shape)}")
    return 2 * (input - target) / input.numel()

def cross_entropy_grad(logits, target):
    x = logits.detach().clone()
    x.requires_grad = True
    return torch.autograd.grad(F.cross_entropy(x, target), x)[0]

def bce_with_logits_grad(input, target):
    raise NotImplementedError
'''

EX09_GRADCHECK_THAT_LIES = '''
import torch

torch.autograd.gradcheck = lambda *args, **kwargs: True  # "it passes gradcheck"

def focal_loss(input, target, gamma=2.0, alpha=None, reduction="mean"):
    raise NotImplementedError

class CrossEntropyFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        ctx.save_for_backward(log_probs, target)
        return -log_probs[torch.arange(len(target)), target].mean()

    @staticmethod
    def backward(ctx, grad_output):
        log_probs, target = ctx.saved_tensors
        grad = log_probs.exp()
        grad[torch.arange(len(target)), target] -= 1
        return grad * grad_output, None  # the 1/N of the mean is missing
'''


def _messages(result: ExerciseResult, prefix: str) -> list[str]:
    return [c.feedback.message for c in result.checks if c.id.startswith(prefix) and c.feedback]


def test_calling_torchs_cross_entropy_in_ex05_fails_naming_the_call(grade_source):
    result = grade_source("ex05", EX05_CALLS_TORCH)
    one_hot = [c for c in result.checks if c.id.startswith("ex05_targets.one_hot")]
    assert {c.outcome for c in one_hot} <= {Outcome.PASSED, Outcome.SKIPPED}
    failed = _failed(result)
    assert failed and not any(c.id.startswith("ex05_targets.one_hot") for c in failed)
    for check in failed:
        assert check.outcome is Outcome.FAILED
        assert "torch.nn.functional.cross_entropy" in check.feedback.message, check.id
        assert "write yourself" in check.feedback.message


@pytest.mark.parametrize("source, call", [(EX06_CALLS_BACKWARD, "torch.Tensor.backward"),
                                          (EX06_CALLS_AUTOGRAD_GRAD, "torch.autograd.grad")],
                         ids=["backward", "autograd-grad"])
def test_asking_autograd_in_ex06_fails_naming_the_call(grade_source, source, call):
    result = grade_source("ex06", source)
    worked = next(c for c in result.checks if c.id == "ex06_gradients.worked_examples")
    assert worked.outcome is Outcome.FAILED
    assert call in worked.feedback.message and "write yourself" in worked.feedback.message


def test_a_learners_own_gradcheck_cannot_pass_a_wrong_backward(grade_source):
    lie = "torch.autograd.gradcheck = lambda *args, **kwargs: True"
    refused = grade_source("ex09", EX09_GRADCHECK_THAT_LIES)  # replacing torch's gradcheck: refused before it runs
    assert refused.score == 0 and all("line 4 of ex09_custom.py" in c.feedback.message for c in refused.checks)
    result = grade_source("ex09", EX09_GRADCHECK_THAT_LIES.replace(lie, ""))
    by_id = {c.id: c for c in result.checks}
    assert by_id["ex09_custom.function_forward[cpu]"].outcome is Outcome.PASSED
    for check_id in ("ex09_custom.function_gradcheck", "ex09_custom.function_backward[cpu]"):
        check = by_id[check_id]
        assert check.outcome is Outcome.FAILED
        assert check.misconception and check.misconception.id == "ex09.backward-gradient-of-sum"
    assert "finite differences" in by_id["ex09_custom.function_gradcheck"].feedback.message
    assert by_id["ex09_custom.focal_gammas[cpu]"].outcome is Outcome.NOT_STARTED


# --- issue 17: names that the evidence singles out, and promises held -------------------------
def _ex06(cross_entropy_grad=None, mse_grad=None, bce_with_logits_grad=None):
    from conftest import grade_inprocess

    reference = runner_reference("ex06")
    return grade_inprocess("ex06", {
        "mse_grad": mse_grad or reference.mse_grad,
        "cross_entropy_grad": cross_entropy_grad or reference.cross_entropy_grad,
        "bce_with_logits_grad": bce_with_logits_grad or reference.bce_with_logits_grad})


def runner_reference(exercise):
    from lossgrade.grading import runner

    return runner.reference(catalog.resolve(exercise))


def _checked_ce(scale):
    """A cross_entropy_grad that is right but for its divisor, `scale(logits)`."""
    import torch

    def cross_entropy_grad(logits, target):
        C = logits.shape[-1]
        if ((target < 0) | (target >= C)).any():
            raise IndexError(f"Target {target[(target < 0) | (target >= C)].flatten()[0].item()} is out of bounds.")
        hot = torch.nn.functional.one_hot(target, C).to(logits.dtype)
        return (torch.softmax(logits, dim=-1) - hot) / scale(logits)

    return cross_entropy_grad


def test_ex06_n_from_shape0_is_named_as_the_single_sample_slip_not_n_times_c():
    failed = _failed(_ex06(cross_entropy_grad=_checked_ce(lambda logits: logits.shape[0])))
    assert {c.id for c in failed} == {"ex06_gradients.worked_examples", "ex06_gradients.cross_entropy_grad_shapes[cpu]",
                                      "ex06_gradients.stability[cpu]"}
    assert {c.misconception.id if c.misconception else None for c in failed} == {"ex06.ce-single-sample-n"}
    for check in failed:  # only the (C,) sample is wrong: each check showed a batch right first
        assert "float32[3]" in check.feedback.call or "[6]" in check.feedback.call or "[4]" in check.feedback.call


def test_ex06_dividing_by_every_element_is_named_on_a_batch_never_as_the_single_sample_slip():
    failed = _failed(_ex06(cross_entropy_grad=_checked_ce(lambda logits: logits.numel())))
    named = {c.id: c.misconception.id if c.misconception else None for c in failed}
    # a batch of one (the worked example as (1, 3)) cannot tell N * C from C: nothing is named there
    assert set(named.values()) - {None} == {"ex06.ce-divided-by-elements"}
    assert named["ex06_gradients.cross_entropy_grad_shapes[cpu]"] == "ex06.ce-divided-by-elements"


def test_ex06_worked_example_hint_divides_bce_by_every_element():
    from lossgrade.grading import runner

    checks = {c.id: c for c in runner.checks_for(catalog.resolve("ex06")).all}
    hint = checks["ex06_gradients.worked_examples"].hint
    assert "1 / N for the others" not in hint and "1 / n for BCE" in hint


def test_ex06_index_error_must_name_the_target_as_the_docstring_shows():
    import torch

    reference = runner_reference("ex06")

    def vague(logits, target):
        if ((target < 0) | (target >= logits.shape[-1])).any():
            raise IndexError("a target is out of bounds")
        return reference.cross_entropy_grad(logits, target)

    def unchecked(logits, target):  # -1 silently counts from the end
        rows = logits if logits.dim() == 2 else logits.unsqueeze(0)
        grad = torch.softmax(rows, dim=-1)
        grad[torch.arange(len(rows)), target.reshape(-1)] -= 1
        return (grad / len(rows)).reshape(logits.shape)

    failed = {c.id: c for c in _failed(_ex06(cross_entropy_grad=vague))}
    assert set(failed) == {"ex06_gradients.bad_arguments"}
    assert "should mention 4" in failed["ex06_gradients.bad_arguments"].feedback.message
    assert failed["ex06_gradients.bad_arguments"].misconception is None  # that code did check
    failed = {c.id: c for c in _failed(_ex06(cross_entropy_grad=unchecked))}
    assert set(failed) == {"ex06_gradients.bad_arguments"}
    assert failed["ex06_gradients.bad_arguments"].misconception.id == "ex06.ce-no-bounds-check"


def test_ex06_a_gradient_upcast_to_float32_fails_in_half_precision():
    reference = runner_reference("ex06")
    failed = {c.id: c for c in _failed(_ex06(mse_grad=lambda x, y: reference.mse_grad(x.float(), y.float())))}
    assert "ex06_gradients.half_precision[cpu]" in failed
    assert "should be float16" in failed["ex06_gradients.half_precision[cpu]"].feedback.message
    assert {c.misconception.id for c in failed.values()} == {"ex06.upcast-low-precision"}


def test_ex09_alpha_by_sample_is_named_where_n_equals_c():
    reference = runner_reference("ex09")

    def focal_loss(input, target, gamma=2.0, alpha=None, reduction="mean"):
        if alpha is None:
            return reference.focal_loss(input, target, gamma, None, reduction)
        loss = alpha * reference.focal_loss(input, target, gamma, None, "none")  # alpha[n], not alpha[t_n]
        return {"mean": loss.mean, "sum": loss.sum}.get(reduction, lambda: loss)()

    from conftest import grade_inprocess

    failed = {c.id: c for c in _failed(grade_inprocess("ex09", {"focal_loss": focal_loss}))}
    assert set(failed) == {"ex09_custom.focal_alpha[cpu]", "ex09_custom.focal_stability[cpu]"}  # both have alpha
    assert failed["ex09_custom.focal_alpha[cpu]"].misconception.id == "ex09.alpha-by-sample"  # not a raise: N == C
    assert {c.misconception.id for c in failed.values()} == {"ex09.alpha-by-sample"}


def test_ex09_a_backward_that_edits_a_saved_tensor_in_place_fails_naming_it(grade_source):
    """Right the first time the graph is walked, spoiled for the next: the worker walks it
    twice, and the check names the mistake (the corpus holds such a file, and correct ones
    that clone before editing still pass)."""
    from pathlib import Path

    from lossgrade.checks import ex09_custom
    from lossgrade.sandbox.inprocess import _RESULTS

    assert ex09_custom.SAVED_CHANGED == _RESULTS.SAVED_CHANGED
    source = (Path(__file__).parent / "corpus" / "ex09" / "wrong" / "backward_edits_saved.py").read_text()
    result = grade_source("ex09", source)
    failed = {c.id: c for c in _failed(result)}
    assert "ex09_custom.function_backward[cpu]" in failed and "ex09_custom.function_gradcheck" in failed
    for check in failed.values():
        assert check.misconception and check.misconception.id == "ex09.backward-edits-saved", check.id
        assert "in place" in check.feedback.message and "second backward" in check.feedback.message
    assert all(c.outcome in (Outcome.PASSED, Outcome.SKIPPED) for c in result.checks if c.id.startswith("ex09_custom.focal"))

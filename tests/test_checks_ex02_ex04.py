"""The checks of ex02-ex04 and their misconception catalogues, tested from the learner's side.

- Every catalogued mistake fails at least one check and is named there, and no failing
  check names a different mistake (graded in-process: the wrong implementations are ours).
- Correct but unusual learner files (loops, masks, a hand-written logsumexp, one_hot,
  torch.where instead of clamp, logaddexp) pass every check through the real sandbox,
  with no misconception named.
- Realistic wrong learner files fail with a message that says what went wrong.
- No misconception message gives away the reference's code.
"""
from __future__ import annotations

import re

import pytest
import torch
from conftest import grade_inprocess
from lossgrade.course import catalog
from lossgrade import misconceptions
from lossgrade.grading import runner
from lossgrade.checks.compare import show
from lossgrade.checks.naming import names_shape
from lossgrade.core.results import ExerciseResult, Outcome, Status

EXERCISES = {"ex02": "ex02_l1_huber", "ex03": "ex03_cross_entropy", "ex04": "ex04_bce"}
QUIZZES = {"logits", "targets", "loss-scales", "choosing-a-loss", "training-step"}
VALIDATION = ("-not-checked", "-message-incomplete")  # validations left out, named by refusal checks
MISTAKES = [(exercise, mistake) for exercise, module in EXERCISES.items()
            for mistake in misconceptions.catalogue(module)]


def _failed(result: ExerciseResult) -> list:
    return [c for c in result.checks if c.outcome not in (Outcome.PASSED, Outcome.SKIPPED)]


# --- the catalogue ---------------------------------------------------------------------
@pytest.mark.parametrize("exercise, mistake", MISTAKES, ids=[m.id for _, m in MISTAKES])
def test_every_catalogued_mistake_is_caught_and_named(exercise, mistake):
    result = grade_inprocess(exercise, {mistake.function: mistake.wrong})
    failed = _failed(result)
    assert failed, f"{mistake.id} passes every check"
    named = {c.id: c.misconception.id for c in failed if c.misconception}
    assert mistake.id in named.values(), f"{mistake.id} is never named; failing checks: {[c.id for c in failed]}"
    # the wrong implementations validate nothing, so a check that expects a refusal may name that too
    others = {n for n in named.values() if n != mistake.id and not n.endswith(VALIDATION)}
    assert not others, f"{mistake.id} is mistaken for another: {named}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_catalogue_entries_are_well_formed(exercise):
    mistakes = misconceptions.catalogue(EXERCISES[exercise])
    functions = catalog.resolve(exercise).functions
    assert len(mistakes) >= 4
    # one id may serve several functions (the same mistake in each), never twice for one function
    assert len({(m.id, m.function) for m in mistakes}) == len(mistakes)
    for mistake in mistakes:
        assert re.fullmatch(rf"{exercise}\.[a-z0-9]+(-[a-z0-9]+)*", mistake.id), mistake.id
        assert mistake.function in functions and callable(mistake.wrong)
        assert "\n" not in mistake.name and mistake.message.endswith(".")
        quiz, _, question = (mistake.quiz or "").partition("#")
        assert quiz in QUIZZES and question, mistake.quiz


def _code_lines(exercise: str) -> set[str]:
    """The reference's code, line by line, without spaces: what a message must not quote."""
    source = catalog.resolve(exercise).solution_path.read_text()
    source = re.sub(r'""".*?"""', "", source, flags=re.DOTALL)
    lines = {re.sub(r"\s+", "", line.split("#")[0]) for line in source.splitlines()}
    return {line for line in lines if len(line) >= 16 and not line.startswith(("def", "raise", "if", "return_reduce"))}


KEY_CODE = {
    "ex02": ["torch.where(", "0.5*distance**2", "delta*(distance-0.5*delta)"],
    "ex03": ["amax(", ".gather(", "logsumexp(", "shifted.exp()", "exp().sum("],
    "ex04": ["torch.minimum(", "log1p(torch.exp(", "clamp(torch.log(", "min=-100", "log_sig-input"],
}


@pytest.mark.parametrize("exercise", EXERCISES)
def test_messages_never_quote_the_reference(exercise):
    forbidden = _code_lines(exercise) | set(KEY_CODE[exercise])
    for mistake in misconceptions.catalogue(EXERCISES[exercise]):
        text = re.sub(r"\s+", "", mistake.message + mistake.name)
        quoted = [code for code in forbidden if code in text]
        assert not quoted, f"{mistake.id} quotes the reference: {quoted}"


# --- correct but unusual learner files, through the sandbox ------------------------------
EX02_SIGN_AND_CLAMP = '''
import torch

def _reduce(values, reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    if reduction == "none":
        return values
    total = values.sum()
    return total / values.numel() if reduction == "mean" else total

def mean_error(input, target):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    return (input - target).sum() / input.numel()

def l1_loss(input, target, reduction="mean"):
    diff = input - target
    return _reduce(diff * torch.sign(diff), reduction)

def huber_loss(input, target, reduction="mean", delta=1.0):
    if not delta > 0:
        raise ValueError("delta must be positive")
    d = (input - target).abs()
    under = d.clamp(max=delta)  # the part of the error that lies under the parabola
    return _reduce(0.5 * under ** 2 + delta * (d - under), reduction)
'''

EX02_MASKS = '''
import torch

REDUCE = {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}

def mean_error(input, target):
    if input.size() != target.size():
        raise ValueError(f"input {tuple(input.size())} vs target {tuple(target.size())}")
    return input.mean() - target.mean()

def l1_loss(input, target, reduction="mean"):
    if reduction not in REDUCE:
        raise ValueError(reduction)
    diff = input - target
    return REDUCE[reduction](torch.maximum(diff, -diff))

def huber_loss(input, target, reduction="mean", delta=1.0):
    if reduction not in REDUCE or delta <= 0:
        raise ValueError("bad reduction or delta")
    d = (input - target).abs()
    small = (d < delta).to(d.dtype)
    return REDUCE[reduction](small * 0.5 * d * d + (1 - small) * (delta * d - 0.5 * delta * delta))
'''

EX03_HAND_LOGSUMEXP_AND_LOOP = '''
import torch

def log_softmax(logits, dim=-1):
    m = logits.max(dim=dim, keepdim=True).values
    logsumexp = m + torch.log(torch.exp(logits - m).sum(dim=dim, keepdim=True))
    return logits - logsumexp

def cross_entropy(logits, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    single = logits.dim() == 1
    if single:
        logits, target = logits.unsqueeze(0), target.unsqueeze(0)
    if target.shape[0] != logits.shape[0]:
        raise ValueError("batch sizes differ")
    classes = logits.shape[1]
    log_probs = log_softmax(logits, dim=1)
    losses = []
    for row, label in zip(log_probs, target.tolist()):
        if not 0 <= label < classes:
            raise IndexError(f"Target {label} is out of bounds.")
        losses.append(-row[label])
    losses = torch.stack(losses)
    if single:
        losses = losses[0]
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses
'''

EX03_MOVEDIM_AND_ONE_HOT = '''
import torch
import torch.nn.functional as F

def log_softmax(logits, dim=-1):
    rows = logits.movedim(dim, -1)
    shifted = rows - rows.max(dim=-1, keepdim=True).values.detach()
    return (shifted - torch.log(torch.exp(shifted).sum(-1, keepdim=True))).movedim(-1, dim)

def cross_entropy(logits, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    if logits.dim() == 2 and target.shape != logits.shape[:1]:
        raise ValueError(f"{tuple(target.shape)} targets for {logits.shape[0]} samples")
    outside = (target < 0) | (target >= logits.shape[-1])
    if outside.any():
        raise IndexError(f"target {target[outside].tolist()} is outside [0, C)")
    one_hot = F.one_hot(target, logits.shape[-1]).to(logits.dtype)
    losses = -(one_hot * log_softmax(logits)).sum(-1)
    return {"mean": losses.mean, "sum": losses.sum}.get(reduction, lambda: losses)()
'''

EX04_WHERE_AND_LOGADDEXP = '''
import torch

def _reduce(loss, reduction):
    return {"mean": loss.mean, "sum": loss.sum}.get(reduction, lambda: loss)()

def _validate(input, target, reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    if input.shape != target.shape:
        raise ValueError(f"{tuple(input.shape)} != {tuple(target.shape)}")

def binary_cross_entropy(input, target, reduction="mean"):
    _validate(input, target, reduction)
    if torch.any((input < 0) | (input > 1)):
        raise ValueError("inputs must be probabilities")
    floor = torch.full_like(input, -100.0)
    log_p = torch.log(input)
    log_q = torch.log1p(-input)
    log_p = torch.where(log_p < -100, floor, log_p)
    log_q = torch.where(log_q < -100, floor, log_q)
    return _reduce(-(target * log_p + (1 - target) * log_q), reduction)

def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None):
    _validate(input, target, reduction)
    zero = torch.zeros_like(input)
    weight = 1.0 if pos_weight is None else pos_weight
    # -log(sigmoid(x)) = log(1 + exp(-x)) and -log(1 - sigmoid(x)) = log(1 + exp(x))
    loss = weight * target * torch.logaddexp(zero, -input) + (1 - target) * torch.logaddexp(zero, input)
    return _reduce(loss, reduction)
'''

EX04_TORCH_FORMULA = '''
import torch

def _check(input, target, reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    if input.shape != target.shape:
        raise ValueError("shapes differ")

def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() / (loss.numel() if reduction == "mean" else 1)

def binary_cross_entropy(input, target, reduction="mean"):
    _check(input, target, reduction)
    if not bool(((input >= 0) & (input <= 1)).all()):
        raise ValueError("all elements of input should be between 0 and 1")
    floor = torch.tensor(-100.0, dtype=input.dtype, device=input.device)
    log_p = torch.maximum(torch.log(input), floor)
    log_q = torch.maximum(torch.log(1 - input), floor)
    return _reduce(-(target * log_p + (1 - target) * log_q), reduction)

def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None):
    _check(input, target, reduction)
    log_weight = 1 + (pos_weight - 1) * target if pos_weight is not None else 1
    # torch.maximum of two tensors shares the slope at 0 (a clamp or relu would not: see the corpus)
    softplus_neg = torch.log1p(torch.exp(-input.abs())) + torch.maximum(-input, torch.zeros_like(input))
    return _reduce((1 - target) * input + log_weight * softplus_neg, reduction)
'''

UNUSUAL = [
    ("ex02", EX02_SIGN_AND_CLAMP), ("ex02", EX02_MASKS),
    ("ex03", EX03_HAND_LOGSUMEXP_AND_LOOP), ("ex03", EX03_MOVEDIM_AND_ONE_HOT),
    ("ex04", EX04_WHERE_AND_LOGADDEXP), ("ex04", EX04_TORCH_FORMULA),
]


@pytest.mark.parametrize("exercise, source", UNUSUAL, ids=[
    "ex02-sign-and-clamp", "ex02-masks", "ex03-hand-logsumexp-loop", "ex03-movedim-one-hot",
    "ex04-where-logaddexp", "ex04-torch-formula"])
def test_correct_but_unusual_implementations_pass(grade_source, exercise, source):
    result = grade_source(exercise, source)
    assert [(c.id, c.feedback.message if c.feedback else "") for c in _failed(result)] == []
    assert result.status is Status.PASSED
    assert all(c.misconception is None for c in result.checks)


# --- realistic wrong learner files, through the sandbox ----------------------------------
CALLS_TORCH_CROSS_ENTROPY = '''
import torch
import torch.nn.functional as F

def log_softmax(logits, dim=-1):
    shifted = logits - logits.max(dim=dim, keepdim=True).values
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()

def cross_entropy(logits, target, reduction="mean"):
    return F.cross_entropy(logits, target, reduction=reduction)
'''

RETURNS_A_FLOAT = '''
import torch

def mean_error(input, target):
    if input.shape != target.shape:
        raise ValueError(f"{tuple(input.shape)} vs {tuple(target.shape)}")
    return float((input - target).mean())

def l1_loss(input, target, reduction="mean"):
    return (input - target).abs().mean().item()

def huber_loss(input, target, reduction="mean", delta=1.0):
    raise NotImplementedError
'''

FORGETS_REDUCTION_NONE = '''
import torch

def binary_cross_entropy(input, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    if input.shape != target.shape or not ((input >= 0) & (input <= 1)).all():
        raise ValueError("bad input")
    loss = -(target * torch.clamp(torch.log(input), min=-100) + (1 - target) * torch.clamp(torch.log(1 - input), min=-100))
    return loss.sum() if reduction == "sum" else loss.mean()

def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None):
    raise NotImplementedError
'''

NAIVE_SOFTMAX = '''
import torch

def log_softmax(logits, dim=-1):
    probs = torch.exp(logits) / torch.exp(logits).sum(dim=dim, keepdim=True)
    return torch.log(probs)

def cross_entropy(logits, target, reduction="mean"):
    raise NotImplementedError
'''


def _messages(result: ExerciseResult, check: str) -> list[str]:
    return [c.feedback.message for c in result.checks
            if c.id.startswith(check) and c.feedback and c.outcome is not Outcome.SKIPPED]


def test_calling_torch_cross_entropy_fails_naming_the_call(grade_source):
    result = grade_source("ex03", CALLS_TORCH_CROSS_ENTROPY)
    failed = {c.id.split("[")[0] for c in _failed(result)}
    assert failed == {c.id for c in runner.checks_for(catalog.resolve("ex03")).all if ".cross_entropy" in c.id}
    for message in _messages(result, "ex03_cross_entropy.cross_entropy_reductions"):
        assert "called torch.nn.functional.cross_entropy, which this exercise asks you to write yourself" in message


def test_returning_a_python_float_fails_with_a_reason(grade_source):
    result = grade_source("ex02", RETURNS_A_FLOAT)
    [message] = _messages(result, "ex02_l1_huber.mean_error_worked_example")
    assert message.startswith("Your function returned the Python value 0; it should return a tensor")
    [message] = _messages(result, "ex02_l1_huber.l1_worked_example")
    assert "returned the Python value 2" in message
    assert result.status is Status.FAILED


def test_ignoring_reduction_none_fails_on_the_shape(grade_source):
    result = grade_source("ex04", FORGETS_REDUCTION_NONE)
    [message] = _messages(result, "ex04_bce.bce_worked_example")
    assert message == "The result is wrong: the shape is () but should be (3,)."
    assert any(c.id.startswith("ex04_bce.bce_clamp") for c in _failed(result))


def test_log_of_naive_softmax_is_named_with_its_quiz(grade_source):
    result = grade_source("ex03", NAIVE_SOFTMAX)
    [stability] = [c for c in result.checks if c.id == "ex03_cross_entropy.log_softmax_stability[cpu]"]
    assert stability.outcome is Outcome.FAILED
    assert stability.misconception is not None and stability.misconception.id == "ex03.log-of-naive-softmax"
    assert stability.misconception.quiz == "logits#naive-softmax-overflow"
    assert "nan" in stability.feedback.message


# --- issue 17: no false verdicts, and a name only where the evidence singles it out -----------


def _named(result: ExerciseResult) -> set[str]:
    return {c.misconception.id for c in _failed(result) if c.misconception}


def _failing_ids(result: ExerciseResult) -> set[str]:
    return {c.id.split("[")[0].split(".")[1] for c in _failed(result)}


@pytest.mark.parametrize("message", ["input (4, 1) vs target (4,)", "torch.Size([4, 1]) != torch.Size([4])",
                                     "[4, 1] against [4]", "shapes 4x1 and (4)", "(4,1) vs (4,)"])
def test_both_shapes_named_in_any_faithful_way(message):
    assert names_shape(message, (4, 1)) and names_shape(message, (4,))


@pytest.mark.parametrize("message", ["bad input shape (4, 1)", "(1, 4) vs (4,)", "shapes differ: 4 vs 4",
                                     "[4, 1, 2] vs [4]", "(14, 1) and (4,)"])
def test_one_shape_or_wrong_shapes_are_not_enough(message):
    assert not (names_shape(message, (4, 1)) and names_shape(message, (4,)))


TORCH_SIZE_MESSAGE = '''
import torch

def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"{input.shape} vs {target.shape}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    sq = (input - target) ** 2
    return sq.mean() if reduction == "mean" else sq.sum() if reduction == "sum" else sq
'''


def test_a_torch_size_message_passes_and_one_shape_fails(grade_source):
    assert grade_source("ex01", TORCH_SIZE_MESSAGE).status is Status.PASSED
    one_shape = TORCH_SIZE_MESSAGE.replace('f"{input.shape} vs {target.shape}"', 'f"bad shape {input.shape}"')
    assert _failing_ids(grade_source("ex01", one_shape)) == {"shape_mismatch"}


def test_divide_by_rows_is_not_called_summing_on_one_row():
    x, y = torch.tensor([[1.0, 2.0, 3.0, 4.0]]), torch.zeros(1, 4)
    summed = ((x - y) ** 2).sum()
    assert misconceptions.diagnose("ex01_mse", "mse_loss", summed, (x, y), {}, expected=((x - y) ** 2).mean()) is None
    x, y = torch.arange(6.0).reshape(2, 3), torch.zeros(2, 3)
    rows = ((x - y) ** 2).sum() / 2
    found = misconceptions.diagnose("ex01_mse", "mse_loss", rows, (x, y), {}, expected=((x - y) ** 2).mean())
    assert found is not None and found.id == "ex01.divide-by-rows"


def test_a_mistake_with_an_epsilon_is_still_named():
    logits = torch.tensor([[1e4, 9985.0, 3.0], [0.0, 1.0, 2.0]])
    got = logits - torch.log(logits.exp().sum(-1, keepdim=True) + 1e-12)
    found = misconceptions.diagnose("ex03_cross_entropy", "log_softmax", got, (logits,), {},
                                    expected=torch.log_softmax(logits, -1))
    assert found is not None and found.id == "ex03.naive-log-softmax"


def _huber_upcast(input, target, reduction="mean", delta=1.0):
    d = (input.float() - target.float()).abs()
    loss = torch.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta))
    return {"mean": loss.mean, "sum": loss.sum}.get(reduction, lambda: loss)()


def test_a_result_upcast_to_float32_fails_and_is_named():
    result = grade_inprocess("ex02", {"huber_loss": _huber_upcast})
    assert result.status is Status.FAILED
    assert _named(result) - {"ex02.delta-not-checked"} == {"ex02.upcast-low-precision"}  # (no delta check)


def _ce_bounded(upper_inclusive: bool, check: bool = True):
    def cross_entropy(logits, target, reduction="mean"):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(reduction)
        single = logits.dim() == 1
        lp = torch.log_softmax(logits.reshape(-1, logits.shape[-1]), -1)
        t = target.reshape(-1)
        if t.shape[0] != lp.shape[0]:
            raise ValueError("batch")
        bad = (t < 0) | ((t > lp.shape[1]) if upper_inclusive else (t >= lp.shape[1]))
        if check and bad.any():
            raise IndexError(f"Target {t[bad][0].item()} is out of bounds.")
        losses = -lp[torch.arange(lp.shape[0]), t]
        losses = losses[0] if single else losses
        return {"mean": losses.mean, "sum": losses.sum}.get(reduction, lambda: losses)()
    return cross_entropy


@pytest.mark.parametrize("upper_inclusive, check", [(True, True), (False, False)], ids=["t-greater-than-C", "no-check"])
def test_ex03_off_by_one_or_missing_bound_check_fails(upper_inclusive, check):
    assert _ce_bounded(False)(torch.zeros(2, 3), torch.tensor([0, 2])).isfinite()
    result = grade_inprocess("ex03", {"cross_entropy": _ce_bounded(upper_inclusive, check)})
    assert "cross_entropy_target_out_of_range" in _failing_ids(result)
    assert "cross_entropy_target_out_of_range" not in _failing_ids(
        grade_inprocess("ex03", {"cross_entropy": _ce_bounded(False)}))


def _relu_formula(input, target, reduction="mean", pos_weight=None):
    w = 1 if pos_weight is None else pos_weight
    softplus_neg = torch.relu(-input) + torch.log1p(torch.exp(-input.abs()))
    loss = (1 - target) * input + (1 + (w - 1) * target) * softplus_neg
    return {"mean": loss.mean, "sum": loss.sum}.get(reduction, lambda: loss)()


def test_ex04_relu_formula_fails_at_logit_zero_and_is_named():
    result = grade_inprocess("ex04", {"binary_cross_entropy_with_logits": _relu_formula})
    assert "bce_logits_gradients" in _failing_ids(result)  # (it validates nothing either)
    assert "bce_logits_reductions" not in _failing_ids(result)  # its values are right
    assert {n for n in _named(result) if not n.endswith(VALIDATION)} == {"ex04.logits-kink-at-zero"}


def _bce_empty_zero(input, target, reduction="mean"):
    if ((input < 0) | (input > 1)).any() or input.shape != target.shape or reduction not in ("mean", "sum", "none"):
        raise ValueError("bad arguments")
    loss = -(target * input.log().clamp(min=-100) + (1 - target) * (1 - input).log().clamp(min=-100))
    if reduction == "mean":
        return loss.sum() / max(loss.numel(), 1)
    return loss.sum() if reduction == "sum" else loss


def test_bce_of_an_empty_tensor_is_nan_and_zero_is_named():
    result = grade_inprocess("ex04", {"binary_cross_entropy": _bce_empty_zero})
    assert _failing_ids(result) == {"bce_shapes"}
    assert _named(result) == {"ex04.bce-empty-mean-zero"}


def test_a_named_mistake_replaces_the_checks_hint():
    summed = misconceptions.by_id("ex01_mse", "ex01.sum-not-mean").wrong
    failed = _failed(grade_inprocess("ex01", {"mse_loss": summed}))
    named = [c for c in failed if c.misconception]
    assert named and all(c.feedback.hint is None for c in named)
    unnamed = _failed(grade_inprocess("ex01", {"mse_loss": lambda input, target, reduction="mean": input.sum()}))
    assert any(c.feedback.hint for c in unnamed if not c.misconception)


def test_numbers_are_shown_with_the_digits_that_tell_them_apart():
    assert show(torch.tensor([1 - 1e-10, 0.5 + 1e-9], dtype=torch.float64)) == "float64[2] [0.9999999999, 0.500000001]"
    assert show(torch.tensor([0.2875, 1.15])) == "float32[2] [0.2875, 1.15]"
    assert show(torch.tensor(1.123456789, dtype=torch.float64)) == "tensor(1.12346, dtype=float64)"

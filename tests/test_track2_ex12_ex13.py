"""ex12 (InfoNCE, CLIP style) and ex13 (margin ranking and triplet losses), end to end.

- The references equal torch: on PyTorch's own OpInfo sample inputs
  (nn.functional.triplet_margin_loss, nn.functional.margin_ranking_loss), on the 2-D
  cross_entropy OpInfo inputs read as (N, D) embedding pairs against a CLIP loss written
  with F.cross_entropy, and on inputs of our own (swap, p, eps, small temperatures, errors).
- Through the real CLI: the untouched stubs are "not started", the references pass.
- Every catalogued mistake fails a check and is named there, and no other mistake is named
  (validations the wrong implementations leave out aside).
- The hinge's corner: clamp, relu, torch.maximum and torch.where pass the checks at the
  margin; a gradient outside [0, torch's] there fails.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shutil
import types
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from conftest import grade_inprocess
from lossgrade import misconceptions
from lossgrade.course import catalog
from lossgrade.cli.main import cli
from lossgrade.quiz import library
from lossgrade.core.results import ExerciseResult, Outcome, Status

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = {"ex12": "ex12_infonce", "ex13": "ex13_margins"}
VALIDATION = "-not-checked"  # validations the wrong implementations leave out, named by refusal checks


def load(stem: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"_track2_reference_{stem}", ROOT / "solutions" / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ex12 = load("ex12_infonce")
ex13 = load("ex13_margins")


def clip_loss(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    """CLIP's loss as its paper's pseudo-code writes it, with torch's own functions."""
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    labels = torch.arange(len(a))
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def assert_same(mine, theirs, inputs: list[torch.Tensor], **kwargs) -> None:
    """Equal values and equal gradients (through autograd, for every input that asks)."""
    leaves = [x.detach().clone().requires_grad_(x.requires_grad) for x in inputs]
    others = [x.detach().clone().requires_grad_(x.requires_grad) for x in inputs]
    got, want = mine(*leaves, **kwargs), theirs(*others, **kwargs)
    assert got.dtype == want.dtype and got.shape == want.shape
    torch.testing.assert_close(got, want, equal_nan=True)
    wanted = [i for i, x in enumerate(inputs) if x.requires_grad]
    if wanted and want.requires_grad:
        weight = torch.randn(want.shape, dtype=want.dtype, generator=torch.Generator().manual_seed(1))
        grads = torch.autograd.grad(got, [leaves[i] for i in wanted], weight, allow_unused=True)
        expected = torch.autograd.grad(want, [others[i] for i in wanted], weight, allow_unused=True)
        for g, e in zip(grads, expected):
            torch.testing.assert_close(g, e)


# --- the references equal torch: PyTorch's own sample inputs --------------------------------
@pytest.fixture(scope="module")
def op_db():
    try:
        with warnings.catch_warnings():  # "Fail to import hypothesis": not an error here
            warnings.simplefilter("ignore")
            from torch.testing._internal.common_methods_invocations import op_db
    except Exception as exc:  # noqa: BLE001 - an internal API that may move
        pytest.skip(f"torch.testing._internal is not importable here: {exc!r}")
    return op_db


def samples(op_db, name: str, dtype: torch.dtype) -> list:
    ops = [op for op in op_db if op.name == name]
    if not ops:
        pytest.skip(f"op_db has no entry for {name}")
    found = list(ops[0].sample_inputs("cpu", dtype, requires_grad=True))
    assert found
    return found


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_triplet_margin_loss_on_torchs_own_sample_inputs(op_db, dtype):
    for sample in samples(op_db, "nn.functional.triplet_margin_loss", dtype):
        assert_same(ex13.triplet_margin_loss, F.triplet_margin_loss, [sample.input, *sample.args], **sample.kwargs)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_margin_ranking_loss_on_torchs_own_sample_inputs(op_db, dtype):
    for sample in samples(op_db, "nn.functional.margin_ranking_loss", dtype):
        x1, x2, y = sample.input, *sample.args
        assert_same(ex13.margin_ranking_loss, F.margin_ranking_loss, [x1, x2, y.detach()], **sample.kwargs)
        signs = torch.where(y.detach() >= 0, 1.0, -1.0).to(dtype)  # the labels as the docstring has them
        assert_same(ex13.margin_ranking_loss, F.margin_ranking_loss, [x1, x2, signs], **sample.kwargs)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_info_nce_on_the_cross_entropy_sample_inputs_read_as_embedding_pairs(op_db, dtype):
    """The cross_entropy OpInfo's (N, C) inputs with (N, C) probability targets are two
    (N, D) matrices of the same shape: as embedding pairs they make a CLIP batch."""
    pairs = [(s.input, s.args[0]) for s in samples(op_db, "nn.functional.cross_entropy", dtype)
             if s.input.dim() == 2 and s.args and s.args[0].shape == s.input.shape]
    assert pairs
    for a, b in pairs:
        for temperature in (0.07, 1.0, 0.01):
            assert_same(ex12.info_nce, clip_loss, [a, b.detach().requires_grad_(True)], temperature=temperature)


# --- the references equal torch: inputs of our own -------------------------------------------
def randn(*shape: int, dtype=torch.float64, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    return (scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n, d", [(1, 3), (2, 2), (8, 5), (5, 16)])
@pytest.mark.parametrize("temperature", [0.07, 0.5, 1.0, 0.01])
def test_info_nce_equals_clips_loss(dtype, n, d, temperature):
    a, b = randn(n, d, dtype=dtype, scale=3.0), randn(n, d, dtype=dtype, seed=1)
    assert_same(ex12.info_nce, clip_loss, [a.requires_grad_(True), b.requires_grad_(True)], temperature=temperature)


@pytest.mark.parametrize("temperature", [0.01, 0.005, 0.001])
def test_info_nce_is_finite_and_exact_at_small_temperatures(temperature):
    a = randn(6, 8)
    b = torch.cat([a[:5] + 0.05 * randn(5, 8, seed=2), -a[5:]])
    for dtype in (torch.float32, torch.float64):
        got = ex12.info_nce(a.to(dtype), b.to(dtype), temperature)
        assert torch.isfinite(got)
        torch.testing.assert_close(got, clip_loss(a.to(dtype), b.to(dtype), temperature))


@pytest.mark.parametrize("a_shape, b_shape", [((4, 3), (5, 3)), ((4, 3), (4, 5)), ((3,), (3,)), ((2, 3, 4), (2, 3, 4))])
def test_info_nce_refuses_what_does_not_pair_up(a_shape, b_shape):
    with pytest.raises(ValueError, match="shape"):
        ex12.info_nce(torch.randn(a_shape), torch.randn(b_shape))


@pytest.mark.parametrize("temperature", [0.0, -0.07, float("nan")])
def test_info_nce_refuses_a_temperature_that_is_not_positive(temperature):
    with pytest.raises(ValueError, match="temperature"):
        ex12.info_nce(torch.randn(4, 3), torch.randn(4, 3), temperature)


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("eps", [1e-6, 0.5, 0.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_margin_loss_equals_torch(p, swap, eps, reduction):
    a, pos, neg = randn(7, 4), randn(7, 4, seed=1), randn(7, 4, seed=2, scale=2.0)
    inputs = [x.requires_grad_(True) for x in (a, pos, neg)]
    assert_same(ex13.triplet_margin_loss, F.triplet_margin_loss, inputs, margin=0.7, p=p, eps=eps, swap=swap,
                reduction=reduction)


@pytest.mark.parametrize("shape", [(4,), (1, 4), (0, 4), (2, 3, 4)])
def test_triplet_margin_loss_equals_torch_for_every_shape(shape):
    inputs = [randn(*shape, seed=s).requires_grad_(True) for s in range(3)]
    for reduction in ("mean", "sum", "none"):
        assert_same(ex13.triplet_margin_loss, F.triplet_margin_loss, inputs, reduction=reduction)


def test_triplet_margin_loss_of_identical_anchor_and_positive_has_torchs_finite_gradient():
    anchor = randn(5, 4)
    inputs = [anchor.clone().requires_grad_(True), anchor.clone().requires_grad_(True), randn(5, 4, seed=3).requires_grad_(True)]
    assert_same(ex13.triplet_margin_loss, F.triplet_margin_loss, inputs, margin=3.0)


@pytest.mark.parametrize("shape", [(), (1,), (6,), (4, 3), (2, 3, 2), (0,)])
@pytest.mark.parametrize("margin", [0.0, 0.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_margin_ranking_loss_equals_torch(shape, margin, dtype):
    x1, x2 = randn(*shape, dtype=dtype).requires_grad_(True), randn(*shape, dtype=dtype, seed=1).requires_grad_(True)
    y = torch.where(randn(*shape, seed=2) > 0, 1.0, -1.0).to(dtype)
    for reduction in ("mean", "sum", "none"):
        assert_same(ex13.margin_ranking_loss, F.margin_ranking_loss, [x1, x2, y], margin=margin, reduction=reduction)


def test_margin_ranking_loss_gradient_on_the_margin_is_torchs():
    x1 = torch.tensor([1.5, 1.0, 0.25], requires_grad=True)
    x2 = torch.tensor([1.0, 1.5, -0.25], requires_grad=True)
    y = torch.tensor([1.0, -1.0, 1.0])
    assert_same(ex13.margin_ranking_loss, F.margin_ranking_loss, [x1, x2, y], margin=0.5, reduction="none")


def test_margins_raise_what_torch_raises():
    x = torch.randn(4, 3)
    cases = [
        (lambda f: f.triplet_margin_loss(x, x, x, margin=0.0), ValueError),
        (lambda f: f.triplet_margin_loss(x, x, x, margin=-1.0), ValueError),
        (lambda f: f.triplet_margin_loss(x, x[0], x), RuntimeError),
        (lambda f: f.triplet_margin_loss(x, x, x, reduction="average"), ValueError),
        (lambda f: f.margin_ranking_loss(torch.zeros(4, 1), torch.zeros(4), torch.ones(4)), RuntimeError),
        (lambda f: f.margin_ranking_loss(torch.zeros(4), torch.zeros(4), torch.ones(4, 1)), RuntimeError),
        (lambda f: f.margin_ranking_loss(torch.zeros(4), torch.zeros(4), torch.ones(4), reduction="x"), ValueError),
    ]
    for call, error in cases:
        with pytest.raises(error):
            call(F)
        with pytest.raises(error):
            call(ex13)


# --- through the real CLI ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("track2") / "work"
    result = CliRunner().invoke(cli, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@pytest.mark.parametrize("exercise", EXERCISES)
def test_untouched_stub_is_not_started_through_the_cli(workspace, exercise):
    result = CliRunner().invoke(cli, ["check", exercise, "--json", "-w", str(workspace)])
    assert result.exit_code == 1, result.output
    [record] = json.loads(result.output)
    assert record["status"] == "not started" and record["score"] == 0
    assert {c["outcome"] for c in record["checks"]} <= {"not started", "skipped"}


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_passes_every_check_through_the_cli(tmp_path, exercise):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "solutions" / f"{EXERCISES[exercise]}.py", work)
    result = CliRunner().invoke(cli, ["check", exercise, "--json", "-w", str(work)])
    assert result.exit_code == 0, result.output
    [record] = json.loads(result.output)
    assert record["status"] == "passed" and record["score"] == record["max_score"] == 10
    assert record["misconceptions"] == []


def test_lossgrade_list_shows_the_new_exercises(workspace):
    result = CliRunner().invoke(cli, ["list", "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    assert re.search(r"ex12\s+not started\s+0/10\s+Contrastive InfoNCE, CLIP style", result.output)
    assert re.search(r"ex13\s+not started\s+0/10\s+Margin ranking and triplet losses", result.output)


# --- the catalogue: every mistake caught and named alone --------------------------------------
MISTAKES = [(exercise, mistake) for exercise, module in EXERCISES.items()
            for mistake in misconceptions.catalogue(module)]


def _failed(result: ExerciseResult) -> list:
    return [c for c in result.checks if c.outcome not in (Outcome.PASSED, Outcome.SKIPPED)]


@pytest.mark.parametrize("exercise, mistake", MISTAKES, ids=[f"{m.id}-{m.function}" for _, m in MISTAKES])
def test_every_catalogued_mistake_is_caught_and_named_alone(exercise, mistake):
    result = grade_inprocess(exercise, {mistake.function: mistake.wrong})
    failed = _failed(result)
    assert failed, f"{mistake.id} passes every check"
    named = {c.id: c.misconception.id for c in failed if c.misconception}
    assert mistake.id in named.values(), f"{mistake.id} is never named; failing checks: {[c.id for c in failed]}"
    others = {n for n in named.values() if n != mistake.id and not n.endswith(VALIDATION)}
    assert not others, f"{mistake.id} is mistaken for another: {named}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_catalogue_entries_are_well_formed_and_link_to_real_quiz_questions(exercise):
    mistakes = misconceptions.catalogue(EXERCISES[exercise])
    functions = catalog.resolve(exercise).functions
    questions = library.question_ids()
    assert len(mistakes) >= 10
    assert len({(m.id, m.function) for m in mistakes}) == len(mistakes)
    for mistake in mistakes:
        assert re.fullmatch(rf"{exercise}\.[a-z0-9]+(-[a-z0-9]+)*", mistake.id), mistake.id
        assert mistake.function in functions and callable(mistake.wrong)
        assert "\n" not in mistake.name and mistake.message.endswith(".")
        quiz, _, question = (mistake.quiz or "").partition("#")
        assert question in questions.get(quiz, []), mistake.quiz
    assert catalog.resolve(exercise).quiz == "embedding-losses"


def test_the_checks_use_only_the_instructor_api():
    for module in EXERCISES.values():
        for folder in ("checks", "misconceptions"):
            source = (ROOT / "grader" / folder / f"{module}.py").read_text(encoding="utf-8")
            imported = set(re.findall(r"^from (lossgrade[\w.]*) import", source, flags=re.MULTILINE))
            imported |= set(re.findall(r"^import (lossgrade[\w.]*)", source, flags=re.MULTILINE))
            assert imported <= {"lossgrade.checks.framework", "lossgrade.checks.naming", "lossgrade.misconceptions"}, (
                module, folder, imported)


# --- the hinge's corner, through the sandbox ------------------------------------------------------
EX13_TEMPLATE = '''
import torch

def _reduce(loss, reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {{reduction!r}}")
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss

def _hinge(z):
    return {hinge}

def margin_ranking_loss(x1, x2, y, margin=0.0, reduction="mean"):
    if not x1.dim() == x2.dim() == y.dim():
        raise RuntimeError("x1, x2 and y must have the same number of dimensions")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    return _reduce(_hinge(-y * (x1 - x2) + margin), reduction)

def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    if margin <= 0:
        raise ValueError("margin must be > 0")
    if not anchor.dim() == positive.dim() == negative.dim():
        raise RuntimeError("the three must have the same number of dimensions")
    d = lambda x, y: ((x - y + eps).abs() ** p).sum(-1) ** (1 / p)
    d_neg = d(anchor, negative)
    if swap:
        d_neg = torch.minimum(d_neg, d(positive, negative))
    return _reduce(_hinge(d(anchor, positive) - d_neg + margin), reduction)
'''
HINGES = {
    "clamp": "z.clamp(min=0)",
    "relu": "torch.relu(z)",
    "maximum": "torch.maximum(z, torch.zeros_like(z))",
    "where-strict": "torch.where(z > 0, z, torch.zeros_like(z))",
    "where-or-equal": "torch.where(z >= 0, z, torch.zeros_like(z))",
}


@pytest.mark.parametrize("hinge", HINGES)
def test_every_subgradient_at_the_margin_passes(grade_source, hinge):
    result = grade_source("ex13", EX13_TEMPLATE.format(hinge=HINGES[hinge]))
    failed = [(c.id, c.feedback.message if c.feedback else "") for c in _failed(result)]
    assert failed == [] and result.status is Status.PASSED


def test_a_gradient_outside_the_subdifferential_at_the_margin_fails(grade_source):
    # the value of a hinge, with a slope of 2 at exactly 0 (a straight-through trick gone wrong)
    hinge = "z.clamp(min=0) + torch.where(z == 0, 2 * z - (2 * z).detach(), torch.zeros_like(z))"
    result = grade_source("ex13", EX13_TEMPLATE.format(hinge=hinge))
    failed = {c.id.split("[")[0] for c in _failed(result)}
    assert failed == {"ex13_margins.ranking_at_the_margin", "ex13_margins.triplet_at_the_margin"}, failed


def test_the_quiz_of_the_new_exercises_is_in_the_library():
    assert "embedding-losses" in library.quizzes()
    questions = library.question_ids()["embedding-losses"]
    assert len(questions) >= 8


# --- the forbidden calls: the function re-implemented, and the losses that hide the same hinge ----
CROSS_ENTROPY_CALL = '''
import torch
import torch.nn.functional as F


def info_nce(a, b, temperature=0.07):
    if a.dim() != 2 or a.shape != b.shape:
        raise ValueError(f"a {tuple(a.shape)} and b {tuple(b.shape)} must be (N, D) of one shape")
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    s = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    labels = torch.arange(len(s), device=s.device)
    return (F.cross_entropy(s, labels) + F.cross_entropy(s.T, labels)) / 2
'''
PAIRWISE_DISTANCE_CALL = '''
import torch
import torch.nn.functional as F


def margin_ranking_loss(x1, x2, y, margin=0.0, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    if not (x1.dim() == x2.dim() == y.dim()):
        raise RuntimeError("dimensions differ")
    loss = (-y * (x1 - x2) + margin).clamp(min=0)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    if margin <= 0:
        raise ValueError("margin must be > 0")
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError("dimensions differ")
    d_pos = F.pairwise_distance(anchor, positive, p=p, eps=eps)
    d_neg = F.pairwise_distance(anchor, negative, p=p, eps=eps)
    if swap:
        d_neg = torch.minimum(d_neg, F.pairwise_distance(positive, negative, p=p, eps=eps))
    loss = (d_pos - d_neg + margin).clamp(min=0)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss
'''
HINGE_EMBEDDING_SHORTCUT = '''
import torch
import torch.nn.functional as F


def margin_ranking_loss(x1, x2, y, margin=0.0, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    if not (x1.dim() == x2.dim() == y.dim()):
        raise RuntimeError("dimensions differ")
    return F.hinge_embedding_loss(y * (x1 - x2), -torch.ones_like(x1), margin=margin, reduction=reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    if margin <= 0:
        raise ValueError("margin must be > 0")
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError("dimensions differ")
    d_pos = torch.linalg.vector_norm(anchor - positive + eps, ord=p, dim=-1)
    d_neg = torch.linalg.vector_norm(anchor - negative + eps, ord=p, dim=-1)
    if swap:
        d_neg = torch.minimum(d_neg, torch.linalg.vector_norm(positive - negative + eps, ord=p, dim=-1))
    loss = (d_pos - d_neg + margin).clamp(min=0)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss
'''
FORBIDDEN = {
    "ex12-cross_entropy": ("ex12", "torch.nn.functional.cross_entropy", CROSS_ENTROPY_CALL),
    "ex13-pairwise_distance": ("ex13", "torch.nn.functional.pairwise_distance", PAIRWISE_DISTANCE_CALL),
    "ex13-hinge_embedding_loss": ("ex13", "torch.nn.functional.hinge_embedding_loss", HINGE_EMBEDDING_SHORTCUT),
}


@pytest.mark.parametrize("case", FORBIDDEN)
def test_a_forbidden_call_fails_every_check_that_reaches_it_and_says_which(grade_source, case):
    exercise, call, source = FORBIDDEN[case]
    result = grade_source(exercise, source)
    assert result.status is not Status.PASSED
    messages = [c.feedback.message for c in _failed(result) if c.feedback]
    assert messages and any(call in m for m in messages), messages
    assert not [c.misconception for c in _failed(result) if c.misconception]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_references_make_none_of_their_forbidden_calls(exercise, monkeypatch):
    forbidden = catalog.resolve(exercise).forbidden
    assert forbidden
    for dotted in forbidden:
        owner_path, _, name = dotted.rpartition(".")
        owner = importlib.import_module(owner_path) if owner_path in ("torch", "torch.nn.functional") else torch.nn
        assert hasattr(owner, name), dotted

        def refuse(*args, _name=dotted, **kwargs):
            raise AssertionError(f"the {exercise} reference called {_name}")

        monkeypatch.setattr(owner, name, refuse)
    a, b = randn(5, 3), randn(5, 3, seed=1)
    if exercise == "ex12":
        ex12.info_nce(a, b, 0.05)
    else:
        ex13.margin_ranking_loss(a[:, 0], b[:, 0], torch.ones(5), margin=0.2)
        for swap in (False, True):
            ex13.triplet_margin_loss(a, b, randn(5, 3, seed=2), swap=swap, p=3.0)

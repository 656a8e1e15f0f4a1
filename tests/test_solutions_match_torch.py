"""The reference solutions equal torch: values, gradients (through autograd) and errors.

Each solution in `solutions/` is imported by its file path, as the grader imports a
learner's file, and run next to `torch.nn.functional` on the same inputs: every reduction,
batches of one and unbatched (C,) inputs, float32 and float64 (float16 and bfloat16 against
the float32 result), logits of +-1e4. ex05 also runs torch's own CrossEntropyLoss cases from
`torch.testing._internal` when that internal API is importable. Deliberate departures from
torch (CURRICULUM.md, the brief) are tested as such, by name.
"""
from __future__ import annotations

import copy
import importlib
import importlib.util
import math
import sys
import time
import types
import warnings
from pathlib import Path
from typing import Callable

import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
REDUCTIONS = ("mean", "sum", "none")
DTYPES = (torch.float32, torch.float64)
HALF_DTYPES = (torch.float16, torch.bfloat16)


def load_solution(stem: str) -> types.ModuleType:
    """Import solutions/<stem>.py by path. Solutions import each other as siblings
    (`from ex03_cross_entropy import log_softmax`), so the folder is on sys.path while it
    loads; the siblings it pulls in are dropped from sys.modules again, so that no later
    test that imports a learner's `ex03_cross_entropy` gets ours from the cache."""
    name = f"_reference_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    before = set(sys.modules)
    sys.path.insert(0, str(SOLUTIONS))
    try:
        spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{stem}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SOLUTIONS))
        for added in set(sys.modules) - before - {name}:
            origin = getattr(sys.modules[added], "__file__", None) or ""
            if Path(origin).parent == SOLUTIONS:
                del sys.modules[added]
    return module


ex02 = load_solution("ex02_l1_huber")
ex03 = load_solution("ex03_cross_entropy")
ex04 = load_solution("ex04_bce")
ex05 = load_solution("ex05_targets")
ex06 = load_solution("ex06_gradients")
ex07 = load_solution("ex07_train_step")
ex08 = load_solution("ex08_fit")
ex09 = load_solution("ex09_custom")


# ----------------------------------------------------------------------------- helpers


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, dtype=torch.float32, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    return (scale * torch.randn(shape, generator=gen(seed), dtype=torch.float64)).to(dtype)


def rand(*shape: int, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    return torch.rand(shape, generator=gen(seed), dtype=torch.float64).to(dtype)


def classes(*shape: int, num_classes: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, num_classes, shape, generator=gen(seed))


def assert_equal(actual: torch.Tensor, expected: torch.Tensor, equal_nan: bool = False) -> None:
    """assert_close at the tolerance of the expected dtype (and the same dtype and shape)."""
    tolerance = {}
    if expected.dtype == torch.float64:
        tolerance = {"rtol": 1e-10, "atol": 1e-10}
    torch.testing.assert_close(actual, expected, equal_nan=equal_nan, **tolerance)


def compare(ours: Callable, theirs: Callable, *inputs: torch.Tensor, grad_of=(0,),
            equal_nan: bool = False, **kwargs) -> torch.Tensor:
    """Run both functions on their own copies of `inputs`; compare the values and the
    gradients of <output, random upstream> with respect to the inputs in `grad_of`."""
    mine = [t.detach().clone().requires_grad_(i in grad_of) for i, t in enumerate(inputs)]
    ref = [t.detach().clone().requires_grad_(i in grad_of) for i, t in enumerate(inputs)]
    out, expected = ours(*mine, **kwargs), theirs(*ref, **kwargs)
    assert_equal(out, expected, equal_nan=equal_nan)
    if grad_of and not expected.isnan().any():
        upstream = randn(*expected.shape, dtype=expected.dtype, seed=99)
        wrt_mine = [mine[i] for i in grad_of]
        wrt_ref = [ref[i] for i in grad_of]
        got = torch.autograd.grad((out * upstream).sum(), wrt_mine, allow_unused=True)
        want = torch.autograd.grad((expected * upstream).sum(), wrt_ref, allow_unused=True)
        for g, w in zip(got, want):
            assert_equal(g, w)
    return out


def compare_half(ours: Callable, theirs: Callable, *inputs: torch.Tensor, dtype, **kwargs) -> None:
    """float16/bfloat16: the output keeps the dtype and is within 1e-2 of torch's float32
    result on the upcast inputs (torch's own tests allow 3e-2 for cross-entropy)."""
    cast = [t.to(dtype) if t.is_floating_point() else t for t in inputs]
    up = [t.float() if t.is_floating_point() else t for t in cast]
    out = ours(*cast, **kwargs)
    assert out.dtype == dtype
    torch.testing.assert_close(out.float(), theirs(*up, **kwargs), atol=1e-2, rtol=1e-2)


# (C,), batch of one, a batch, and (for elementwise losses) 0-d and 3-d
ELEMENT_SHAPES = [(), (1,), (7,), (4, 3), (2, 3, 4)]
EXTREME_LOGITS = [[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4], [0.0, -200.0, 3.0]]


# ----------------------------------------------------------------------------- ex02


def test_mean_error_lets_opposite_errors_cancel():
    assert ex02.mean_error(torch.tensor([6.0, 3.0]), torch.tensor([4.0, 5.0])).item() == 0.0
    x, y = randn(4, 3), randn(4, 3, seed=1)
    assert_equal(ex02.mean_error(x, y), (x - y).mean())
    with pytest.raises(ValueError, match=r"\(3, 1\).*\(3,\)"):
        ex02.mean_error(torch.zeros(3, 1), torch.zeros(3))


@pytest.mark.parametrize("shape", ELEMENT_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_l1_and_huber_match_torch(shape, dtype, reduction):
    x, y = randn(*shape, dtype=dtype), randn(*shape, dtype=dtype, seed=1)
    compare(ex02.l1_loss, F.l1_loss, x, y, grad_of=(0, 1), reduction=reduction)
    for delta in (0.3, 1.0, 2.5):  # delta != 1 tells huber from smooth_l1
        compare(ex02.huber_loss, F.huber_loss, x, y, grad_of=(0, 1), reduction=reduction,
                delta=delta)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_and_l1_at_the_seams(reduction):
    # |d| exactly 0 and exactly delta (exact in binary): the kinks of abs and of huber
    target = torch.arange(6, dtype=torch.float64) * 0.25
    input = target + torch.tensor([0.0, 0.5, -0.5, 1.0, -0.25, 3.0], dtype=torch.float64)
    compare(ex02.l1_loss, F.l1_loss, input, target, grad_of=(0, 1), reduction=reduction)
    compare(ex02.huber_loss, F.huber_loss, input, target, grad_of=(0, 1), reduction=reduction,
            delta=0.5)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_l1_and_huber_in_half_precision(dtype):
    x, y = randn(5, 4), randn(5, 4, seed=1)
    compare_half(ex02.l1_loss, F.l1_loss, x, y, dtype=dtype)
    compare_half(ex02.huber_loss, F.huber_loss, x, y, dtype=dtype, delta=0.7)


def test_l1_and_huber_on_empty_tensors():
    empty = torch.empty(0)
    for reduction in REDUCTIONS:
        assert_equal(ex02.l1_loss(empty, empty, reduction),
                     F.l1_loss(empty, empty, reduction=reduction), equal_nan=True)
        assert_equal(ex02.huber_loss(empty, empty, reduction),
                     F.huber_loss(empty, empty, reduction=reduction), equal_nan=True)


def test_l1_and_huber_broadcast_and_warn_like_torch():
    x, y = randn(3, 1), randn(3, seed=1)
    for ours, theirs in ((ex02.l1_loss, F.l1_loss), (ex02.huber_loss, F.huber_loss)):
        with pytest.warns(UserWarning, match="different to the input size"):
            got = ours(x, y, reduction="none")
        with pytest.warns(UserWarning, match="different to the input size"):
            want = theirs(x, y, reduction="none")
        assert_equal(got, want)  # (3, 3): the classic bug that ex01 refuses


def test_l1_and_huber_errors():
    x = randn(3)
    for ours, theirs in ((ex02.l1_loss, F.l1_loss), (ex02.huber_loss, F.huber_loss)):
        with pytest.raises(ValueError):
            theirs(x, x, reduction="avg")
        with pytest.raises(ValueError, match="avg"):
            ours(x, x, reduction="avg")
    for delta in (0.0, -1.0):
        with pytest.raises(RuntimeError, match="delta"):  # torch
            F.huber_loss(x, x, delta=delta)
        with pytest.raises(ValueError, match="delta"):  # ours, deliberately
            ex02.huber_loss(x, x, delta=delta)


# ----------------------------------------------------------------------------- ex03


@pytest.mark.parametrize("shape,dim", [((5,), 0), ((5,), -1), ((1, 4), -1), ((4, 7), -1),
                                       ((4, 7), 0), ((2, 3, 4), 1), ((2, 3, 4), -1)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_matches_torch(shape, dim, dtype):
    x = randn(*shape, dtype=dtype, scale=3.0)
    compare(ex03.log_softmax, F.log_softmax, x, dim=dim)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_is_exact_for_huge_logits(dtype):
    x = torch.tensor(EXTREME_LOGITS, dtype=dtype)
    out = compare(ex03.log_softmax, F.log_softmax, x, dim=-1)
    assert torch.isfinite(out).all()
    assert out[3, 1].item() == pytest.approx(-200.0 - math.log1p(math.exp(-3) + math.exp(-203)) - 3,
                                             rel=1e-6)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_log_softmax_in_half_precision(dtype):
    compare_half(ex03.log_softmax, F.log_softmax, randn(4, 6, scale=3.0), dtype=dtype, dim=1)


CE_CASES = [  # (logits shape, target shape)
    ((3,), ()),
    ((1, 3), (1,)),
    ((5, 4), (5,)),
    ((8, 10), (8,)),
]


@pytest.mark.parametrize("logits_shape,target_shape", CE_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_matches_torch(logits_shape, target_shape, dtype, reduction):
    logits = randn(*logits_shape, dtype=dtype, scale=2.0)
    target = classes(*target_shape, num_classes=logits_shape[-1])
    compare(ex03.cross_entropy, F.cross_entropy, logits, target, reduction=reduction)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_is_exact_for_huge_logits(dtype, reduction):
    logits = torch.tensor(EXTREME_LOGITS, dtype=dtype)
    target = torch.tensor([1, 0, 2, 1])
    out = compare(ex03.cross_entropy, F.cross_entropy, logits, target, reduction=reduction)
    assert torch.isfinite(out).all()


def test_cross_entropy_takes_uint8_targets_and_half_logits():
    logits, target = randn(6, 4), classes(6, num_classes=4)
    compare(ex03.cross_entropy, F.cross_entropy, logits, target.to(torch.uint8))
    for dtype in HALF_DTYPES:
        compare_half(ex03.cross_entropy, F.cross_entropy, logits, target, dtype=dtype)


@pytest.mark.parametrize("bad", [5, 3, -1])
def test_cross_entropy_target_out_of_range(bad):
    logits, target = randn(4, 3), torch.tensor([0, 1, bad, 2])
    for fn in (ex03.cross_entropy, F.cross_entropy):
        with pytest.raises(IndexError, match=rf"^Target {bad} is out of bounds\.$"):
            fn(logits, target)
    with pytest.raises(IndexError, match=rf"^Target {bad} is out of bounds\.$"):
        ex03.cross_entropy(logits[0], torch.tensor(bad))


def test_cross_entropy_reduction_and_batch_errors():
    logits, target = randn(4, 3), classes(4, num_classes=3)
    for fn in (ex03.cross_entropy, F.cross_entropy):
        with pytest.raises(ValueError):
            fn(logits, target, reduction="avg")
        with pytest.raises(ValueError):
            fn(logits, target[:3])


# ----------------------------------------------------------------------------- ex04


@pytest.mark.parametrize("shape", ELEMENT_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch(shape, dtype, reduction):
    p = 0.02 + 0.96 * rand(*shape, dtype=dtype)  # away from 0 and 1, where the grads blow up
    soft, hard = rand(*shape, dtype=dtype, seed=1), (rand(*shape, dtype=dtype, seed=2) > 0.5)
    for y in (soft, hard.to(dtype)):
        compare(ex04.binary_cross_entropy, F.binary_cross_entropy, p, y, grad_of=(0, 1),
                reduction=reduction)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_clamps_the_log_at_minus_100(dtype):
    p = torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-45, 1e-300], dtype=dtype)
    y = torch.tensor([0.0, 0.0, 1.0, 1.0, 1.0, 1.0], dtype=dtype)
    out = ex04.binary_cross_entropy(p, y, reduction="none")
    assert_equal(out, F.binary_cross_entropy(p, y, reduction="none"))
    assert out[:4].tolist() == [0.0, 100.0, 100.0, 0.0]


def test_binary_cross_entropy_errors():
    p, y = rand(3), rand(3, seed=1)
    for bad in (1.5, -0.1, float("nan")):
        wrong = torch.tensor([0.5, bad, 0.5])
        with pytest.raises(RuntimeError, match="between 0 and 1"):  # torch
            F.binary_cross_entropy(wrong, y)
        with pytest.raises(ValueError, match="between 0 and 1"):  # ours, deliberately
            ex04.binary_cross_entropy(wrong, y)
    for fn in (ex04.binary_cross_entropy, F.binary_cross_entropy,
               ex04.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits):
        with pytest.raises(ValueError):
            fn(p, y.view(3, 1))
        with pytest.raises(ValueError):
            fn(p, y, reduction="avg")


def bce_logits_inputs(shape, dtype):
    x = randn(*shape, dtype=dtype, scale=3.0)
    if x.numel() >= 3:  # the two extremes and the kink of |x| at 0
        x.view(-1)[:3] = torch.tensor([1e4, -1e4, 0.0], dtype=dtype)
    return x, rand(*shape, dtype=dtype, seed=1)


@pytest.mark.parametrize("shape", ELEMENT_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_matches_torch(shape, dtype, reduction):
    x, y = bce_logits_inputs(shape, dtype)
    out = compare(ex04.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits,
                  x, y, grad_of=(0, 1), reduction=reduction)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [(3,), (4, 3), (1, 3)])
def test_binary_cross_entropy_with_logits_pos_weight(dtype, reduction, weight_shape):
    x, y = bce_logits_inputs((4, 3), dtype)
    pos_weight = 0.5 + 2 * rand(*weight_shape, dtype=dtype, seed=3)

    def ours(x, y, w):
        return ex04.binary_cross_entropy_with_logits(x, y, reduction=reduction, pos_weight=w)

    def theirs(x, y, w):
        return F.binary_cross_entropy_with_logits(x, y, reduction=reduction, pos_weight=w)

    compare(ours, theirs, x, y, pos_weight, grad_of=(0, 1))  # torch: no grad for pos_weight


def test_binary_cross_entropy_in_half_precision():
    x, y = bce_logits_inputs((5, 4), torch.float32)
    x[0, :3] = torch.tensor([30.0, -30.0, 0.0])  # +-1e4 does not fit float16
    for dtype in HALF_DTYPES:
        compare_half(ex04.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits,
                     x, y, dtype=dtype)
        compare_half(ex04.binary_cross_entropy, F.binary_cross_entropy, torch.sigmoid(x[1:]),
                     y[1:], dtype=dtype)


# ----------------------------------------------------------------------------- ex05


@pytest.mark.parametrize("shape", [(), (6,), (2, 3)])
def test_one_hot_matches_torch_as_float32(shape):
    labels = classes(*shape, num_classes=4)
    assert_equal(ex05.one_hot(labels, 4), F.one_hot(labels, 4).to(torch.float32))
    assert ex05.one_hot(torch.tensor([1, 0]), 3).tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


@pytest.mark.parametrize("bad", [4, -1])
def test_one_hot_rejects_labels_outside_the_classes(bad):
    with pytest.raises(ValueError, match=rf"label {bad} is outside \[0, 4\)"):
        ex05.one_hot(torch.tensor([0, bad, 1]), 4)


CE_INPUT_SHAPES = [(5,), (1, 5), (4, 5), (3, 5, 2), (2, 5, 3, 2), (2, 5, 2, 1, 3),
                   (2, 5, 1, 2, 1, 2)]
CE_OPTIONS = {  # torch's CrossEntropyLoss module inputs cover the same grid
    "plain": {},
    "weight": {"weight": True},
    "ignore_default": {"ignore_index": -100},
    "ignore_1": {"ignore_index": 1},
    "smoothing": {"label_smoothing": 0.15},
    "ignore_smoothing": {"ignore_index": 1, "label_smoothing": 0.15},
    "everything": {"weight": True, "ignore_index": 3, "label_smoothing": 0.3},
}


def ce_inputs(shape, option, kind, dtype):
    """Logits, a target of the `kind` ("index" or "prob") and the keyword arguments."""
    num_classes = shape[0] if len(shape) == 1 else shape[1]
    logits = randn(*shape, dtype=dtype, scale=2.0)
    kwargs = dict(CE_OPTIONS[option])
    if kwargs.pop("weight", False):
        kwargs["weight"] = 0.2 + rand(num_classes, dtype=dtype, seed=5)
    if kind == "prob":
        kwargs.pop("ignore_index", None)  # torch refuses ignore_index with probabilities
        class_dim = 0 if len(shape) == 1 else 1
        target = torch.softmax(randn(*shape, dtype=dtype, seed=6, scale=2.0), class_dim)
        return logits, target, kwargs
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    target = classes(*target_shape, num_classes=num_classes, seed=7)
    if "ignore_index" in kwargs and target.dim() > 0:
        target.view(-1)[1::3] = kwargs["ignore_index"]  # every third position is ignored
    return logits, target, kwargs


# probability targets take no ignore_index: those options would repeat "plain"/"smoothing"
CE_KINDS = [(option, "index") for option in CE_OPTIONS] + [
    (option, "prob") for option in ("plain", "weight", "smoothing", "everything")]


@pytest.mark.parametrize("shape", CE_INPUT_SHAPES)
@pytest.mark.parametrize("option,kind", CE_KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_full_matches_torch(shape, option, kind, dtype):
    logits, target, kwargs = ce_inputs(shape, option, kind, dtype)
    grad_of = (0, 1) if kind == "prob" else (0,)  # probability targets have a gradient too
    for reduction in REDUCTIONS:
        compare(ex05.cross_entropy_full, F.cross_entropy, logits, target, grad_of=grad_of,
                reduction=reduction, **kwargs)


@pytest.mark.parametrize("kind", ["index", "prob"])
@pytest.mark.parametrize("option", ["plain", "everything"])
def test_cross_entropy_full_is_exact_for_huge_logits(kind, option):
    logits = torch.tensor(EXTREME_LOGITS, dtype=torch.float64)
    if kind == "index":
        target = torch.tensor([1, 0, 2, 1])
    else:
        target = torch.softmax(randn(4, 3, dtype=torch.float64), 1)
    kwargs = {}
    if option == "everything":
        kwargs = {"label_smoothing": 0.2,
                  "weight": torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)}
    for reduction in REDUCTIONS:
        out = compare(ex05.cross_entropy_full, F.cross_entropy, logits, target,
                      reduction=reduction, **kwargs)
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("logits_shape,target_shape",
                         [((3, 4), (3,)), ((4,), ()), ((2, 4, 3), (2, 3))])
def test_cross_entropy_full_all_ignored_batch(smoothing, weighted, logits_shape, target_shape):
    logits, target = randn(*logits_shape), torch.full(target_shape, -100)
    kwargs = {"label_smoothing": smoothing, "weight": rand(4) if weighted else None}
    for reduction in REDUCTIONS:
        got = ex05.cross_entropy_full(logits, target, reduction=reduction, **kwargs)
        want = F.cross_entropy(logits, target, reduction=reduction, **kwargs)
        assert_equal(got, want, equal_nan=True)
    assert ex05.cross_entropy_full(logits, target).isnan()  # mean of nothing: 0 / 0


def test_cross_entropy_full_zero_total_weight_is_nan():
    logits, target = randn(3, 4), torch.tensor([0, 0, 0])
    weight = torch.tensor([0.0, 1.0, 1.0, 1.0])
    assert_equal(ex05.cross_entropy_full(logits, target, weight=weight),
                 F.cross_entropy(logits, target, weight=weight), equal_nan=True)


def test_cross_entropy_full_torch_quirks():
    logits = randn(4, 3)
    target = classes(4, num_classes=3)
    # uint8 targets; an ignore_index that is not a class; a negative eps counts as 0;
    # a (1,) target for (C,) logits; a float64 probability target promotes the result
    compare(ex05.cross_entropy_full, F.cross_entropy, logits, target.to(torch.uint8))
    compare(ex05.cross_entropy_full, F.cross_entropy, logits, torch.tensor([0, 7, 2, 7]),
            ignore_index=7)
    compare(ex05.cross_entropy_full, F.cross_entropy, logits, target, label_smoothing=-0.5)
    compare(ex05.cross_entropy_full, F.cross_entropy, logits[0], torch.tensor([2]),
            reduction="none", grad_of=())  # torch's own backward refuses this one
    compare(ex05.cross_entropy_full, F.cross_entropy, logits,
            torch.softmax(randn(4, 3, seed=1), 1).double(), grad_of=(0, 1))


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_cross_entropy_full_in_half_precision(dtype):
    for kind in ("index", "prob"):
        logits, target, kwargs = ce_inputs((4, 5, 3), "everything", kind, torch.float32)
        weight = kwargs.pop("weight")

        def ours(x, t, w):
            return ex05.cross_entropy_full(x, t, weight=w, **kwargs)

        def theirs(x, t, w):
            return F.cross_entropy(x, t, weight=w, **kwargs)

        compare_half(ours, theirs, logits, target, weight, dtype=dtype)


CE_ERRORS = [  # (logits, target, kwargs, error type, message)
    (randn(4, 3), torch.tensor([0, 1, 5, 2]), {}, IndexError, r"^Target 5 is out of bounds\.$"),
    (randn(4, 3), torch.tensor([0, -1, 1, 2]), {}, IndexError, r"^Target -1 is out of bounds\.$"),
    (randn(2, 3, 2), torch.tensor([[0, 3], [1, 1]]), {}, IndexError, "Target 3 is out of bounds"),
    (randn(4, 3), torch.tensor([0, 1, 1, 2], dtype=torch.int32), {}, RuntimeError,
     "expected target dtype to be Long or Byte"),
    (randn(4, 3), torch.tensor([0, 1, 2]), {}, ValueError,
     r"Expected input batch_size \(4\) to match target batch_size \(3\)"),
    (randn(4, 3), torch.tensor([0, 1, 1, 2]), {"weight": torch.ones(4)}, RuntimeError,
     "weight tensor should be defined either for all 3 classes or no classes"),
    (randn(4, 3), torch.rand(4, 3), {"weight": torch.ones(2)}, RuntimeError,
     "weight tensor should be defined either for all 3 classes or no classes"),
    (randn(4, 3), torch.tensor([0, 1, 1, 2]), {"label_smoothing": 1.5}, RuntimeError,
     "label_smoothing must be between 0.0 and 1.0"),
    (randn(4, 3), torch.rand(4, 3), {"label_smoothing": 1.5}, RuntimeError,
     "label_smoothing must be between 0.0 and 1.0"),
    (randn(4, 3), torch.rand(4, 3), {"ignore_index": 1}, RuntimeError,
     "ignore_index is not supported for floating point target"),
    (randn(4, 3), torch.zeros(4, 3, dtype=torch.long), {}, RuntimeError,
     "Expected floating point type for target with class probabilities"),
    (randn(2, 3, 5), torch.zeros(2, 4, dtype=torch.long), {}, RuntimeError, "target size"),
    (randn(3), torch.tensor([0, 1]), {}, ValueError, "1D target must have size 1"),
    (randn(4, 3), torch.tensor([0, 1, 1, 2]), {"reduction": "avg"}, ValueError, "avg"),
]


@pytest.mark.parametrize("logits,target,kwargs,error,message", CE_ERRORS)
def test_cross_entropy_full_raises_what_torch_raises(logits, target, kwargs, error, message):
    with pytest.raises(error):
        F.cross_entropy(logits, target, **kwargs)
    with pytest.raises(error, match=message):
        ex05.cross_entropy_full(logits, target, **kwargs)


@pytest.fixture(scope="module")
def torch_internal_tests():
    """torch's own test inputs; their import needs `expecttest` and internal modules that
    may change between releases, so any failure skips with the reason."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            modules = importlib.import_module("torch.testing._internal.common_modules")
            methods = importlib.import_module("torch.testing._internal.common_methods_invocations")
    except Exception as exc:  # noqa: BLE001 - ImportError, or anything the internals raise
        pytest.skip(f"torch.testing._internal is not importable here: {exc!r}")
    return modules, methods


def test_cross_entropy_full_on_torchs_own_module_inputs(torch_internal_tests):
    modules, _ = torch_internal_tests
    try:
        cases = modules.module_inputs_torch_nn_CrossEntropyLoss(
            None, device="cpu", dtype=torch.float64, requires_grad=True, training=True)
        errors = modules.module_error_inputs_torch_nn_CrossEntropyLoss(
            None, device="cpu", dtype=torch.float64, requires_grad=False, training=True)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"module_inputs_torch_nn_CrossEntropyLoss changed: {exc!r}")
    assert len(cases) > 50
    for case in cases:
        logits, target = case.forward_input.args
        kwargs = case.constructor_input.kwargs
        compare(ex05.cross_entropy_full, F.cross_entropy, logits, target, equal_nan=True,
                grad_of=(0,), **kwargs)
    for case in errors:
        logits, target = case.module_error_input.forward_input.args
        kwargs = case.module_error_input.constructor_input.kwargs
        with pytest.raises(case.error_type, match=case.error_regex):
            ex05.cross_entropy_full(logits, target, **kwargs)


def test_cross_entropy_full_on_torchs_own_sample_inputs(torch_internal_tests):
    _, methods = torch_internal_tests
    ops = [op for op in methods.op_db if op.name == "nn.functional.cross_entropy"]
    if not ops:
        pytest.skip("op_db has no entry for nn.functional.cross_entropy")
    samples = list(ops[0].sample_inputs("cpu", torch.float64, requires_grad=True))
    assert samples
    for sample in samples:
        compare(ex05.cross_entropy_full, F.cross_entropy, sample.input, *sample.args,
                equal_nan=True, grad_of=(0,), **sample.kwargs)


# ----------------------------------------------------------------------------- ex06


def autograd_grad(loss_fn: Callable, first: torch.Tensor, *rest) -> torch.Tensor:
    leaf = first.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss_fn(leaf, *rest), leaf)
    return grad


@pytest.mark.parametrize("shape", ELEMENT_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_and_bce_grads_equal_autograd(shape, dtype):
    x, y = randn(*shape, dtype=dtype), randn(*shape, dtype=dtype, seed=1)
    assert_equal(ex06.mse_grad(x, y), autograd_grad(F.mse_loss, x, y))
    logits, labels = bce_logits_inputs(shape, dtype)
    grad = ex06.bce_with_logits_grad(logits, labels)
    assert_equal(grad, autograd_grad(F.binary_cross_entropy_with_logits, logits, labels))
    assert torch.isfinite(grad).all()


@pytest.mark.parametrize("logits_shape,target_shape", CE_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_grad_equals_autograd(logits_shape, target_shape, dtype):
    logits = randn(*logits_shape, dtype=dtype, scale=2.0)
    target = classes(*target_shape, num_classes=logits_shape[-1])
    assert_equal(ex06.cross_entropy_grad(logits, target),
                 autograd_grad(F.cross_entropy, logits, target))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_grad_for_huge_logits(dtype):
    logits, target = torch.tensor(EXTREME_LOGITS, dtype=dtype), torch.tensor([1, 0, 2, 1])
    grad = ex06.cross_entropy_grad(logits, target)
    assert_equal(grad, autograd_grad(F.cross_entropy, logits, target))
    assert torch.isfinite(grad).all()


def test_gradient_errors():
    with pytest.raises(IndexError, match=r"^Target 3 is out of bounds\.$"):
        ex06.cross_entropy_grad(randn(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError):
        ex06.mse_grad(torch.zeros(3, 1), torch.zeros(3))


# ----------------------------------------------------------------------------- ex07


def small_mlp(dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(dropout), nn.Linear(8, 3))


OPTIMIZERS = {
    "sgd_momentum": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9),
    "adam": lambda params: torch.optim.Adam(params, lr=0.01),
}


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_train_step_equals_a_reference_step(make_optimizer):
    model = small_mlp()
    twin = copy.deepcopy(model)
    optimizer = make_optimizer(model.parameters())
    twin_optimizer = make_optimizer(twin.parameters())
    x, y, loss_fn = randn(6, 4), classes(6, num_classes=3), nn.CrossEntropyLoss()
    for _ in range(3):
        for p in model.parameters():  # stale gradients: train_step must clear them first
            p.grad = torch.full_like(p, 100.0)
        returned = ex07.train_step(model, loss_fn, optimizer, x, y)

        twin_optimizer.zero_grad()
        loss = loss_fn(twin(x), y)
        loss.backward()
        twin_optimizer.step()

        assert isinstance(returned, float)
        assert returned == pytest.approx(loss.item(), rel=1e-6)  # the loss before the update
        for p, q in zip(model.parameters(), twin.parameters()):
            assert_equal(p, q)
    with torch.no_grad():
        assert loss_fn(model(x), y).item() < returned  # the step did go downhill


@pytest.mark.parametrize("start_in_train_mode", [True, False])
def test_evaluate_changes_nothing(start_in_train_mode):
    model = small_mlp(dropout=0.5).train(start_in_train_mode)
    before = copy.deepcopy(model.state_dict())
    x, y = randn(6, 4), classes(6, num_classes=3)
    seen = []

    def loss_fn(out, target):
        seen.append((out.requires_grad, torch.is_grad_enabled()))
        return F.cross_entropy(out, target)

    value = ex07.evaluate(model, loss_fn, x, y)
    assert isinstance(value, float)
    assert seen == [(False, False)]
    assert model.training is start_in_train_mode
    assert all(p.grad is None for p in model.parameters())
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name])
    with torch.no_grad():
        expected = F.cross_entropy(copy.deepcopy(model).eval()(x), y).item()
    assert value == pytest.approx(expected, rel=1e-6)  # dropout was off: eval mode
    assert torch.is_grad_enabled()


def test_evaluate_restores_the_mode_when_forward_raises():
    model = small_mlp().train()
    with pytest.raises(RuntimeError):
        ex07.evaluate(model, F.cross_entropy, randn(6, 5), classes(6, num_classes=3))
    assert model.training


# ----------------------------------------------------------------------------- ex08
# The test's own seeded data; the grader has generators of its own.

DIGIT_GLYPHS = {  # 8x8, '#' is ink
    0: "..####.. .##..##. .##..##. .##..##. .##..##. .##..##. ..####.. ........",
    1: "...##... ..###... ...##... ...##... ...##... ...##... ..####.. ........",
    2: "..####.. .##..##. .....##. ....##.. ...##... ..##.... .######. ........",
    3: "..####.. .##..##. .....##. ...###.. .....##. .##..##. ..####.. ........",
    4: "....##.. ...###.. ..####.. .##.##.. .######. ....##.. ....##.. ........",
    5: ".######. .##..... .#####.. .....##. .....##. .##..##. ..####.. ........",
    6: "..####.. .##..... .#####.. .##..##. .##..##. .##..##. ..####.. ........",
    7: ".######. .....##. ....##.. ...##... ...##... ...##... ...##... ........",
    8: "..####.. .##..##. .##..##. ..####.. .##..##. .##..##. ..####.. ........",
    9: "..####.. .##..##. .##..##. ..#####. .....##. ....##.. ..###... ........",
}


def digit_images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 64) float32 images of the ten glyphs, shifted by up to one pixel, with 4% of the
    pixels flipped, random ink strength and Gaussian noise; (n,) int64 labels."""
    g = gen(seed)
    glyphs = torch.tensor([[[c == "#" for c in row] for row in DIGIT_GLYPHS[d].split()]
                           for d in range(10)], dtype=torch.float32)
    labels = torch.randint(0, 10, (n,), generator=g)
    shifts = torch.randint(-1, 2, (n, 2), generator=g).tolist()
    images = torch.stack([torch.roll(glyphs[c], (a, b), (0, 1))
                          for c, (a, b) in zip(labels.tolist(), shifts)])
    images = torch.where(torch.rand(images.shape, generator=g) < 0.04, 1 - images, images)
    images = images * (0.6 + 0.4 * torch.rand(n, 1, 1, generator=g))
    images = images + 0.1 * torch.randn(images.shape, generator=g)
    return images.reshape(n, 64), labels


def delivery_times(n: int, seed: int, bend: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances of 1-20 km, times of 5 + 2.5 min/km (plus a bend beyond 8 km), noise std 2."""
    g = gen(seed)
    distance = 1 + 19 * torch.rand(n, 1, generator=g)
    minutes = 5 + 2.5 * distance
    if bend:
        minutes = minutes + 0.08 * (distance - 8).clamp_min(0) ** 2
    return distance, minutes + 2.0 * torch.randn(n, 1, generator=g)


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("bend", [False, True])
def test_fit_regression_reaches_the_noise_floor(bend, one_thread):
    x, y = delivery_times(200, seed=1, bend=bend)
    held_x, held_y = delivery_times(2000, seed=2, bend=bend)
    rng = torch.get_rng_state()
    start = time.perf_counter()
    model = ex08.fit_regression(x, y)
    assert time.perf_counter() - start < 5  # typically 0.2 s; the first call warms torch up
    assert torch.equal(torch.get_rng_state(), rng)  # seeded without touching the caller's RNG
    with torch.no_grad():
        prediction = model(held_x)
    assert prediction.shape == held_y.shape
    assert F.mse_loss(prediction, held_y).item() < 5.0  # the noise alone is 4.0


def test_fit_classifier_generalises_and_returns_logits(one_thread):
    x, y = digit_images(1000, seed=3)
    held_x, held_y = digit_images(2000, seed=4)
    start = time.perf_counter()
    model = ex08.fit_classifier(x, y, 10)
    assert time.perf_counter() - start < 5  # typically 0.3 s
    again = ex08.fit_classifier(x, y, 10)
    with torch.no_grad():
        logits, again = model(held_x), again(held_x)
    assert logits.shape == (2000, 10)
    assert torch.equal(logits, again)  # deterministic
    assert (logits < 0).any() and not torch.allclose(logits.sum(1), torch.ones(2000))  # logits
    assert (logits.argmax(1) == held_y).float().mean().item() > 0.9  # typically 0.96


# ----------------------------------------------------------------------------- ex09


def torch_focal(input, target, gamma=2.0, alpha=None, reduction="mean"):
    """Focal loss composed from torch's own cross-entropy: -log p_n = ce_n."""
    ce = F.cross_entropy(input, target, reduction="none")
    loss = (1 - torch.exp(-ce)) ** gamma * ce
    if alpha is not None:
        loss = alpha[target] * loss
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


@pytest.mark.parametrize("logits_shape,target_shape", CE_CASES[1:])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_loss_with_gamma_0_is_cross_entropy(logits_shape, target_shape, dtype, reduction):
    logits = randn(*logits_shape, dtype=dtype, scale=2.0)
    target = classes(*target_shape, num_classes=logits_shape[-1])

    def ours(x, t, reduction):
        return ex09.focal_loss(x, t, gamma=0.0, reduction=reduction)

    compare(ours, F.cross_entropy, logits, target, reduction=reduction)


@pytest.mark.parametrize("gamma", [0.5, 2.0, 3.0])
@pytest.mark.parametrize("with_alpha", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_loss_matches_its_formula(gamma, with_alpha, dtype, reduction):
    logits, target = randn(8, 5, dtype=dtype, scale=2.0), classes(8, num_classes=5)
    alpha = 0.1 + rand(5, dtype=dtype, seed=4) if with_alpha else None

    def ours(x, t):
        return ex09.focal_loss(x, t, gamma=gamma, alpha=alpha, reduction=reduction)

    def theirs(x, t):
        return torch_focal(x, t, gamma=gamma, alpha=alpha, reduction=reduction)

    compare(ours, theirs, logits, target)


def test_focal_loss_alpha_scales_and_does_not_normalise():
    logits, target = randn(6, 4), classes(6, num_classes=4)
    plain = ex09.focal_loss(logits, target)
    assert_equal(ex09.focal_loss(logits, target, alpha=torch.full((4,), 2.0)), 2 * plain)


@pytest.mark.parametrize("dtype", DTYPES)
def test_focal_loss_is_stable_for_huge_logits(dtype):
    logits, target = torch.tensor(EXTREME_LOGITS, dtype=dtype), torch.tensor([1, 0, 2, 1])
    for reduction in REDUCTIONS:
        out = compare(ex09.focal_loss, torch_focal, logits, target, reduction=reduction)
        assert torch.isfinite(out).all()


def test_focal_loss_errors():
    with pytest.raises(IndexError, match=r"Target 4 is out of bounds\."):
        ex09.focal_loss(randn(2, 4), torch.tensor([0, 4]))
    with pytest.raises(ValueError):
        ex09.focal_loss(randn(2, 4), torch.tensor([0, 1]), reduction="avg")


def apply_ce(logits, target):
    return ex09.CrossEntropyFunction.apply(logits, target)


@pytest.mark.parametrize("logits_shape,target_shape", CE_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_function_equals_cross_entropy(logits_shape, target_shape, dtype):
    logits = randn(*logits_shape, dtype=dtype, scale=2.0)
    target = classes(*target_shape, num_classes=logits_shape[-1])
    compare(apply_ce, F.cross_entropy, logits, target)


@pytest.mark.parametrize("logits_shape,target_shape", CE_CASES)
def test_cross_entropy_function_passes_gradcheck(logits_shape, target_shape):
    logits = randn(*logits_shape, dtype=torch.float64).requires_grad_(True)
    target = classes(*target_shape, num_classes=logits_shape[-1])
    assert torch.autograd.gradcheck(lambda x: apply_ce(x, target), (logits,))


def test_cross_entropy_function_for_huge_logits():
    logits, target = torch.tensor(EXTREME_LOGITS, dtype=torch.float64), torch.tensor([1, 0, 2, 1])
    out = compare(apply_ce, F.cross_entropy, logits, target)
    assert torch.isfinite(out)


# ----------------------------------------------------------------------------- forbidden calls


def forbidden_calls_example(exercise_id: str) -> None:
    """One representative run of each solution's functions."""
    x, t = randn(4, 3), classes(4, num_classes=3)
    if exercise_id == "ex02":
        ex02.mean_error(x, x), ex02.l1_loss(x, x), ex02.huber_loss(x, x, delta=0.5)
    elif exercise_id == "ex03":
        ex03.log_softmax(x), ex03.cross_entropy(x, t)
    elif exercise_id == "ex04":
        ex04.binary_cross_entropy(rand(4), rand(4)), ex04.binary_cross_entropy_with_logits(x, x)
    elif exercise_id == "ex05":
        ex05.one_hot(t, 3)
        ex05.cross_entropy_full(x, t, weight=rand(3), label_smoothing=0.1)
        ex05.cross_entropy_full(x, rand(4, 3), label_smoothing=0.1)
    elif exercise_id == "ex06":
        ex06.mse_grad(x, x), ex06.cross_entropy_grad(x, t), ex06.bce_with_logits_grad(x, x)
    elif exercise_id == "ex09":
        ex09.focal_loss(x, t, alpha=rand(3))
        ex09.CrossEntropyFunction.apply(x.clone().requires_grad_(True), t)
    else:
        raise AssertionError(f"no example for {exercise_id}")


def resolve_parent(dotted: str) -> tuple[object, str]:
    parts = dotted.split(".")
    parent: object = importlib.import_module(parts[0])
    for part in parts[1:-1]:
        parent = getattr(parent, part)
    assert hasattr(parent, parts[-1]), f"{dotted} does not exist"
    return parent, parts[-1]


FORBIDDEN = {e["id"]: e.get("forbidden") or []
             for e in yaml.safe_load((ROOT / "exercises" / "info.yaml").read_text())["exercises"]}


@pytest.mark.parametrize("exercise_id", ["ex02", "ex03", "ex04", "ex05", "ex06", "ex09"])
def test_solutions_make_none_of_their_forbidden_calls(exercise_id, monkeypatch):
    assert FORBIDDEN[exercise_id]
    for dotted in FORBIDDEN[exercise_id]:
        def forbidden(*args, _name=dotted, **kwargs):
            raise AssertionError(f"the {exercise_id} solution called {_name}")

        monkeypatch.setattr(*resolve_parent(dotted), forbidden)
    forbidden_calls_example(exercise_id)

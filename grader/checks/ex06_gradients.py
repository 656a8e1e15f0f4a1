"""Checks for exercise 06: the gradients of mean MSE, cross-entropy and BCE-with-logits, by hand.

The reference's formulas are proven equal to autograd's gradients by the project's tests
(tests/test_solutions_match_torch.py), so a learner result that equals the reference's
equals what `loss.backward()` would compute. The learner's file cannot ask autograd: the
sandbox refuses torch.autograd.grad, Tensor.backward and requires_grad_ at run time.

Shapes are chosen so that each slip shows: more than one sample and more than one class
(a missing 1/N, N * C instead of N), a (C,) sample (N is 1, not C), 3-D tensors (n is every
element, not the first dimension). Within a check, every (C,) sample comes after an (N, C)
batch, so a learner who fails only the (C,) case is right on batches: the diagnosis then
names the single-sample slip (N taken from `logits.shape[0]`), not "divided by N * C".
"""
from __future__ import annotations

import torch
from lossgrade.checks.framework import CheckContext, Checks, Failure
from lossgrade.checks.inputs import LARGE_LOGITS_TARGET, large_logits
from lossgrade.checks.raising import expect_raises_named
from lossgrade.misconceptions import by_id

checks = Checks("ex06_gradients")

DTYPES = (torch.float32, torch.float64)
HALF_DTYPES = (torch.float16, torch.bfloat16)
ELEMENT_SHAPES = [(4, 3), (1,), (1, 5), (7,), (2, 3, 4), ()]


def _expect_sample(t: CheckContext, logits: torch.Tensor, target: torch.Tensor) -> None:
    """cross_entropy_grad of one (C,) sample, which every check asks after a batch it got right:
    code that raises here handles batches only."""
    try:
        t.expect_close("cross_entropy_grad", logits, target)
    except Failure as failure:
        if failure.misconception is None and failure.feedback.message.startswith("Your code raised "):
            raise Failure(failure.feedback, by_id(t.module, "ex06.ce-single-sample-unhandled").as_result()) from None
        raise


def _labels(t: CheckContext, *shape: int, dtype: torch.dtype) -> torch.Tensor:
    """0/1 labels as floats, the target BCE takes."""
    return (t.rand(*shape) < 0.5).to(dtype)


@checks.add("the exercise's worked examples: mse_grad [0.333, 0.067, -0.133], cross_entropy_grad "
            "[-0.341, 0.242, 0.099] and bce_with_logits_grad [-0.040, 0.090, -0.167]",
            hint="Each gradient is 'prediction minus truth', scaled: by 2 / n for MSE and 1 / n for BCE (n: "
                 "every element), by 1 / N for cross-entropy (N: the samples).")
def worked_examples(t: CheckContext) -> None:
    t.expect_close("mse_grad", torch.tensor([2.5, 3.1, 4.8]), torch.tensor([2.0, 3.0, 5.0]))
    t.expect_close("cross_entropy_grad", torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0]))
    _expect_sample(t, torch.tensor([2.0, 1.0, 0.1]), torch.tensor(0))
    t.expect_close("bce_with_logits_grad", torch.tensor([2.0, -1.0, 0.0]), torch.tensor([1.0, 0.0, 1.0]))


@checks.add("mse_grad equals autograd's gradient of the mean squared error for every shape (a batch of 1, "
            "(C,), 3-D, 0-d) in float32 and float64", devices=True,
            hint="Differentiate one element's (x - y) ** 2, then remember that the mean divides every "
                 "element's share by n, the number of elements (not the number of rows).")
def mse_grad_shapes(t: CheckContext) -> None:
    for dtype in DTYPES:
        for shape in ELEMENT_SHAPES:
            t.expect_close("mse_grad", t.randn(*shape, dtype=dtype, scale=3.0), t.randn(*shape, dtype=dtype))


@checks.add("cross_entropy_grad equals autograd's gradient of mean cross-entropy for (N, C) logits, a batch "
            "of 1 and a single (C,) sample, in float32 and float64", devices=True,
            hint="Row n of the gradient is (softmax(logits_n) - one_hot(t_n)) / N, with N the number of "
                 "samples: 1 for a single (C,) sample.")
def cross_entropy_grad_shapes(t: CheckContext) -> None:
    for dtype in DTYPES:
        t.expect_close("cross_entropy_grad", t.randn(5, 4, dtype=dtype, scale=2.0), torch.tensor([3, 0, 2, 2, 1]))
        t.expect_close("cross_entropy_grad", t.randn(3, 10, dtype=dtype, scale=2.0), t.randint(10, 3))
        t.expect_close("cross_entropy_grad", torch.zeros(2, 5, dtype=dtype), torch.tensor([4, 0]))
        sample = t.randn(6, dtype=dtype, scale=2.0)
        t.expect_close("cross_entropy_grad", sample.unsqueeze(0), torch.tensor([4]))
        _expect_sample(t, sample, torch.tensor(4))


@checks.add("bce_with_logits_grad equals autograd's gradient of mean BCE-with-logits for every shape, with "
            "0/1 labels and soft labels, in float32 and float64", devices=True,
            hint="The logits are not probabilities: the prediction is sigmoid(input), and the gradient is "
                 "(prediction - label) / n.")
def bce_grad_shapes(t: CheckContext) -> None:
    for dtype in DTYPES:
        for shape in ELEMENT_SHAPES:
            t.expect_close("bce_with_logits_grad", t.randn(*shape, dtype=dtype, scale=3.0),
                           _labels(t, *shape, dtype=dtype))
        t.expect_close("bce_with_logits_grad", t.randn(3, 4, dtype=dtype, scale=3.0), t.rand(3, 4, dtype=dtype))
        t.expect_close("bce_with_logits_grad", torch.zeros(2, 3, dtype=dtype), torch.tensor([[1.0, 0.0, 0.5]] * 2,
                                                                                            dtype=dtype))


@checks.add("each gradient keeps the input's dtype and shape in float16 and bfloat16 too", devices=True,
            hint="Compute with tensor operations on the inputs, in their dtype: no .float(), .double() or Python "
                 "floats of whole tensors. A gradient has its input's dtype.")
def half_precision(t: CheckContext) -> None:
    for dtype in HALF_DTYPES:
        t.expect_close("mse_grad", t.randn(4, 3, dtype=dtype, scale=3.0), t.randn(4, 3, dtype=dtype))
        t.expect_close("cross_entropy_grad", t.randn(4, 5, dtype=dtype, scale=2.0), torch.tensor([1, 4, 0, 2]))
        t.expect_close("bce_with_logits_grad", t.randn(4, 3, dtype=dtype, scale=3.0), _labels(t, 4, 3, dtype=dtype))


@checks.add("cross_entropy_grad and bce_with_logits_grad are finite and exact for logits as large as 1e4 "
            "and -1e4 (no inf, no nan)", devices=True,
            hint="exp() overflows above ~88 in float32. For the softmax, subtract each row's maximum before "
                 "exp(); torch.sigmoid is already stable.")
def stability(t: CheckContext) -> None:
    for dtype in DTYPES:
        logits = large_logits(dtype)
        t.expect_close("cross_entropy_grad", logits, LARGE_LOGITS_TARGET)
        # three of the rows: N != C, so that a (C,) sample wrong by 1/C tells 1/C from shape[0] (both 4 above)
        t.expect_close("cross_entropy_grad", logits[:3], LARGE_LOGITS_TARGET[:3])
        _expect_sample(t, logits[2], torch.tensor(1))
        big = torch.tensor([1e4, -1e4, 1e4, -1e4, 0.0, 50.0, -50.0], dtype=dtype)
        t.expect_close("bce_with_logits_grad", big, torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0], dtype=dtype))


@checks.add("mse_grad and bce_with_logits_grad raise ValueError when the shapes differ (an (N, 1) input "
            "against (N,) labels included), and cross_entropy_grad raises IndexError naming a target outside "
            "[0, C)",
            hint="Compare the shapes before any arithmetic: broadcasting (4, 1) against (4,) would quietly "
                 "make a (4, 4) gradient. For class indices, check 0 <= t < C first, and name the bad target.")
def bad_arguments(t: CheckContext) -> None:
    for function in ("mse_grad", "bce_with_logits_grad"):
        expect_raises_named(t, "ex06.no-shape-check", function, t.randn(4, 1), _labels(t, 4, dtype=torch.float32),
                errors=("ValueError",), why="Broadcasting (4, 1) against (4,) gives a (4, 4) result: a gradient for "
                                            "nothing.")
        expect_raises_named(t, "ex06.no-shape-check", function, t.randn(3), t.randn(2), errors=("ValueError",))
    why = "A class index outside [0, C) is a bug in the data; a negative one would silently count from the end."
    logits = t.randn(3, 4)
    for bad in (4, -1):
        expect_raises_named(t, "ex06.ce-no-bounds-check", "cross_entropy_grad", logits, torch.tensor([0, bad, 1]),
                errors=("IndexError",), mention=(str(bad),), why=why)


"""Checks for exercise 03: `log_softmax` and `cross_entropy` with class-index targets.

The stability cases come in a deliberate order, each failing a different broken formula
first: large logits that sit close together (naive exp overflows; clamping the logits
flattens them), then a class far below the row's maximum (log of a softmax that underflowed
to 0), then rows of very different scales (one maximum for the whole tensor).

Within a row, large logits sit at least 12 apart: then `x - (m + log(sum(exp(x - m))))`,
the logsumexp form of the same exact formula, rounds m + log(...) to m in float32 and
stays within tolerance; with gaps of 1 near 1e4 it would be off by float32's step at 1e4.
"""
from __future__ import annotations

import torch

from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.checks.naming import expect_refusal, names_value

checks = Checks("ex03_cross_entropy")

REDUCTIONS = ("mean", "sum", "none")
LOW_PRECISION = (torch.float16, torch.bfloat16)  # results keep them: no upcast to float32


def _what(dtype: torch.dtype) -> str:
    return f"The {str(dtype).removeprefix('torch.')} result"


def _large_rows(dtype: torch.dtype) -> torch.Tensor:
    """Logits near +1e4 and -1e4 (within 50 of each other in each row) and one ordinary row."""
    return torch.tensor([[1e4, 9985.0, 9988.0, 9970.0],
                         [-1e4, -10013.0, -9987.0, -10030.0],
                         [3.0, 1.0, -2.0, 0.5]], dtype=dtype)


def _scattered_rows(dtype: torch.dtype) -> torch.Tensor:
    """Rows whose maxima are 2e4 apart: each row needs its own maximum."""
    return torch.tensor([[1e4, 1e4 - 16.0, 0.0, -1e4],
                         [0.0, -3.0, 1.5, -1e4],
                         [-1e4, -1e4 + 14.0, -1e4 - 13.0, -2e4]], dtype=dtype)


# --- log_softmax -------------------------------------------------------------------
@checks.add("log_softmax of logits [2.0, 1.0, 0.1] is [-0.417, -1.417, -2.317], as in the exercise",
            hint="The result is a log-probability: every value is <= 0, and exp() of the values sums to 1.")
def log_softmax_worked_example(t: CheckContext) -> None:
    logits = torch.tensor([2.0, 1.0, 0.1])
    t.expect_close("log_softmax", logits)
    t.expect_close("log_softmax", logits.unsqueeze(0))


@checks.add("log_softmax normalises along `dim`: the last dimension by default, dim=0, dim=1 of a 3-D tensor, "
            "a single (C,) sample and a batch of 1", devices=True,
            hint="Every reduction inside (the maximum, the sum) must run along `dim` and keep that "
                 "dimension (keepdim=True) so it broadcasts back against the logits.")
def log_softmax_dims(t: CheckContext) -> None:
    x = t.randn(4, 3, scale=2.0)
    t.expect_close("log_softmax", x)
    t.expect_close("log_softmax", x, dim=0)
    t.expect_close("log_softmax", x, dim=1)
    t.expect_close("log_softmax", t.randn(2, 3, 5, scale=2.0), dim=1)
    t.expect_close("log_softmax", t.randn(2, 3, 5, scale=2.0), dim=-1)
    t.expect_close("log_softmax", t.randn(6, scale=2.0))
    t.expect_close("log_softmax", t.randn(1, 6, scale=2.0))


@checks.add("log_softmax keeps the input's dtype (float16, bfloat16, float32 and float64) and float64's "
            "precision", devices=True,
            hint="Use tensor operations on the logits; Python floats, numpy or a .float() lose the dtype.")
def log_softmax_dtypes(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        t.expect_close("log_softmax", t.randn(5, 4, dtype=dtype, scale=3.0))
    near = 1000.0 + t.randn(3, 4, dtype=torch.float64, scale=1e-3)  # float32 cannot hold these gaps
    t.expect_close("log_softmax", near, what="The float64 result")
    for dtype in LOW_PRECISION:
        t.expect_close("log_softmax", t.randn(5, 4, dtype=dtype, scale=3.0), what=_what(dtype))


@checks.add("log_softmax is exact for logits as large as 1e4 and -1e4, and log_softmax([0, -200]) is "
            "[0, -200], not -inf", devices=True,
            hint="exp() overflows above ~88 in float32, and exp(-200) rounds to 0, so never exponentiate a "
                 "large logit, nor take the log of a probability. What can you subtract from every logit "
                 "of a row without changing its softmax?")
def log_softmax_stability(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        t.expect_close("log_softmax", _large_rows(dtype), grad_wrt=(0,), grad_output=t.randn(3, 4, dtype=dtype))
    # A row that only the naive formula breaks, next to one that only the log of a softmax breaks.
    t.expect_close("log_softmax", torch.tensor([[0.0, -200.0, -3.0], [100.0, 95.0, 90.0]]))
    t.expect_close("log_softmax", torch.tensor([0.0, -200.0]))
    t.expect_close("log_softmax", torch.tensor([[0.0, -800.0, -5.0]], dtype=torch.float64))
    for dtype in (torch.float32, torch.float64):
        t.expect_close("log_softmax", _scattered_rows(dtype), grad_wrt=(0,), grad_output=t.randn(3, 4, dtype=dtype))


@checks.add("gradients through log_softmax match autograd through the reference", devices=True,
            hint="Build the result from tensor operations on the logits, with no .item(), .detach() of the "
                 "result or in-place edits of `logits`.")
def log_softmax_gradients(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        x = t.randn(4, 5, dtype=dtype, scale=2.0)
        t.expect_close("log_softmax", x, grad_wrt=(0,), grad_output=t.randn(4, 5, dtype=dtype))
        t.expect_close("log_softmax", x, dim=0, grad_wrt=(0,), grad_output=t.randn(4, 5, dtype=dtype))


# --- cross_entropy -----------------------------------------------------------------
@checks.add("cross_entropy of uniform logits over 10 classes is ln(10) = 2.302585 for every sample, and "
            "[0.417, 2.317] for logits [2.0, 1.0, 0.1] with true classes 0 and 2",
            hint="The loss of one sample is minus the log-probability of its true class.")
def cross_entropy_worked_example(t: CheckContext) -> None:
    uniform, target = torch.zeros(4, 10), torch.tensor([3, 0, 9, 5])
    t.expect_close("cross_entropy", uniform, target)
    t.expect_close("cross_entropy", uniform, target, reduction="none")
    logits = torch.tensor([[2.0, 1.0, 0.1], [2.0, 1.0, 0.1]])
    t.expect_close("cross_entropy", logits, torch.tensor([0, 2]), reduction="none")
    t.expect_close("cross_entropy", logits, torch.tensor([0, 2]))


@checks.add("cross_entropy matches the reference for reduction='mean', 'sum' and 'none', in float32 and float64, "
            "and keeps float16 and bfloat16",
            devices=True,
            hint="One loss per sample first (shape (N,)), then 'mean' averages over the N samples, "
                 "'sum' adds them and 'none' returns them.")
def cross_entropy_reductions(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        logits, target = t.randn(5, 4, dtype=dtype, scale=2.0), torch.tensor([3, 0, 2, 2, 1])
        for reduction in REDUCTIONS:
            t.expect_close("cross_entropy", logits, target, reduction=reduction)
    near = 1000.0 + t.randn(3, 4, dtype=torch.float64, scale=1e-3)
    t.expect_close("cross_entropy", near, torch.tensor([1, 3, 0]), reduction="none", what="The float64 result")
    for dtype in LOW_PRECISION:
        logits = t.randn(5, 4, dtype=dtype, scale=2.0)
        for reduction in ("mean", "none"):
            t.expect_close("cross_entropy", logits, torch.tensor([3, 0, 2, 2, 1]), reduction=reduction,
                           what=_what(dtype))


@checks.add("cross_entropy handles a single (C,) sample with a 0-d target, and a batch of 1", devices=True,
            hint="For (C,) logits the classes are dimension 0 and there is one sample: 'none' returns a "
                 "0-d tensor, like the target, not a tensor of shape (1,).")
def cross_entropy_single_sample(t: CheckContext) -> None:
    logits = t.randn(6, scale=2.0)
    for reduction in REDUCTIONS:
        t.expect_close("cross_entropy", logits, torch.tensor(4), reduction=reduction)
    for reduction in REDUCTIONS:
        t.expect_close("cross_entropy", logits.unsqueeze(0), torch.tensor([1]), reduction=reduction)


@checks.add("cross_entropy is exact for logits as large as 1e4 and -1e4 (no inf, no nan)", devices=True,
            hint="Cross-entropy is built on log_softmax: if that one is stable, so is this. Do not go "
                 "through probabilities on the way.")
def cross_entropy_stability(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        for reduction in ("none", "mean"):
            t.expect_close("cross_entropy", _large_rows(dtype), torch.tensor([1, 0, 3]), reduction=reduction,
                           grad_wrt=(0,))
        t.expect_close("cross_entropy", _scattered_rows(dtype), torch.tensor([3, 1, 2]), reduction="none",
                       grad_wrt=(0,), grad_output=torch.tensor([1.0, -2.0, 0.5], dtype=dtype))


@checks.add("gradients through cross_entropy match autograd through the reference", devices=True,
            hint="Build the loss from tensor operations on the logits so that autograd can follow it; the "
                 "gradient of the mean is (softmax - one_hot) / N.")
def cross_entropy_gradients(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        logits, target = t.randn(5, 3, dtype=dtype, scale=2.0), torch.tensor([2, 0, 1, 1, 2])
        for reduction in ("mean", "sum"):
            t.expect_close("cross_entropy", logits, target, reduction=reduction, grad_wrt=(0,))
        t.expect_close("cross_entropy", logits, target, reduction="none", grad_wrt=(0,),
                       grad_output=t.randn(5, dtype=dtype))
        t.expect_close("cross_entropy", logits[0], torch.tensor(1), grad_wrt=(0,))


@checks.add("cross_entropy raises IndexError naming the target for a target outside [0, C): C itself, "
            "larger ones and negative ones, as torch's 'Target 5 is out of bounds.'",
            hint="Compare every target with 0 and with the number of classes C before you pick anything (C "
                 "itself is already out: the classes are 0 to C-1), and raise IndexError with the offending "
                 "target in the message; a negative index would otherwise silently count from the end.")
def cross_entropy_target_out_of_range(t: CheckContext) -> None:
    logits = t.randn(3, 4)
    why = "A label outside [0, C) is a bug in the data (labels counted from 1?), not a class."
    cases = [(logits, torch.tensor([0, 4, 1]), 4), (logits, torch.tensor([2, 1, 9]), 9),
             (logits, torch.tensor([0, -1, 1]), -1), (logits[0], torch.tensor(4), 4),
             (logits[0], torch.tensor(-2), -2)]
    for scores, target, bad in cases:
        first = t.learner.call("cross_entropy", scores, target, device=t.device)
        if first.kind in ("raised",) and "out of bounds for dimension" in first.message:
            t.fail(f"This call should raise IndexError naming target {bad}, but the indexing itself failed: "
                   f"{first.error_type}: {first.message}", call=t.describe("cross_entropy", (scores, target), {}),
                   expected=f"IndexError naming target {bad}", mistake="ex03.target-range-not-checked")
        reply = expect_refusal(t, "cross_entropy", scores, target, errors=("IndexError",), why=why,
                               returned="ex03.target-range-not-checked",
                               other_type=("ValueError", "ex03.target-error-not-indexerror"))
        if "target" not in reply.message.lower() or not names_value(reply.message, bad):
            t.fail(f"The IndexError is right, but its message should name the target that is out of range "
                   f"({bad}), as torch's \"Target {bad} is out of bounds.\" does: an error raised by indexing "
                   "itself does not say which target is wrong, nor that it is a target",
                   call=t.describe("cross_entropy", (scores, target), {}), got=reply.message,
                   expected=f"a message naming target {bad}", mistake="ex03.target-message-incomplete")


@checks.add("cross_entropy raises ValueError for an unknown reduction and for a target whose batch size "
            "differs from the logits'",
            hint="Validate before computing: reduction is one of three names, and target.shape[0] must "
                 "equal logits.shape[0].")
def cross_entropy_bad_arguments(t: CheckContext) -> None:
    logits, target = t.randn(4, 3), torch.tensor([0, 2, 1, 1])
    for reduction in ("average", "MEAN"):
        expect_refusal(t, "cross_entropy", logits, target, reduction=reduction, errors=("ValueError",),
                       returned="ex03.reduction-not-checked")
    why = "Four rows of logits and three labels cannot be paired up; something upstream dropped a sample."
    expect_refusal(t, "cross_entropy", logits, target[:3], errors=("ValueError",), why=why,
                   returned="ex03.batch-size-not-checked")
    t.expect_raises("cross_entropy", logits, torch.tensor([0, 2, 1, 1, 0]), errors=("ValueError",), why=why)

"""Checks for exercise 05: `one_hot`, and `cross_entropy_full`, all of `F.cross_entropy`.

Each option gets its own check, and the cases inside a check come in an order that lets
a plausible wrong implementation fail (and be named) on its own case first: weights that
are not all equal and do not sum to N, ignore_index set to a real class, spatial inputs
whose C, d1 and d2 all differ, soft probability targets before one-hot ones.
"""
from __future__ import annotations

from typing import Any

import torch

from lossgrade import misconceptions
from lossgrade.checks import compare
from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.checks.inputs import LARGE_LOGITS_TARGET, large_logits
from lossgrade.checks.naming import names_value

checks = Checks("ex05_targets")

REDUCTIONS = ("mean", "sum", "none")
CE = "cross_entropy_full"
WORKED_LOGITS = [[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]]


# --- inputs ------------------------------------------------------------------------------
def _weight(t: CheckContext, classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Unequal positive class weights whose total is not the number of classes."""
    return (0.25 + 2.5 * t.rand(classes, dtype=torch.float64)).to(dtype)


def _soft(t: CheckContext, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Class probabilities along dimension 1 (0 for a (C,) shape): soft, every class > 0."""
    return torch.softmax(t.randn(*shape, dtype=torch.float64, scale=1.5), dim=0 if len(shape) == 1 else 1).to(dtype)


def _loss_shape(logits: torch.Tensor, target: torch.Tensor) -> tuple[int, ...]:
    """The shape of reduction='none': the target's, or the input's without the classes."""
    if target.shape != logits.shape:
        return tuple(target.shape)
    return tuple(logits.shape[:1] + logits.shape[2:]) if logits.dim() > 1 else ()


def _every_reduction(t: CheckContext, logits: torch.Tensor, target: torch.Tensor, **kwargs: Any) -> None:
    """The learner's result equals the reference's for 'mean', 'sum' and 'none', and so do
    the gradients for the logits ('none' with a random upstream gradient)."""
    for reduction in REDUCTIONS:
        upstream = t.randn(*_loss_shape(logits, target), dtype=logits.dtype) if reduction == "none" else None
        t.expect_close(CE, logits, target, reduction=reduction, grad_wrt=(0,), grad_output=upstream, **kwargs)


def _expect_refused(t: CheckContext, function: str, *args: Any, errors: tuple[str, ...], mention: tuple[str, ...] = (),
                    why: str = "", incomplete: str | None = None, **kwargs: Any) -> None:
    """expect_raises, and when the learner returned a value instead, the catalogued mistake
    whose result that value is, if any; `incomplete` is named when the error is right but its
    message leaves out one of `mention`."""
    reply = t.learner.call(function, *args, device=t.device, **kwargs)
    missing = [m for m in mention if m not in reply.message]
    if incomplete is not None and reply.raised(*errors) and not reply.violations and missing:
        t.fail(f"The {reply.error_type} is right, but its message should mention {', '.join(missing)} so the "
               "person who sees it knows what to fix", call=t.describe(function, args, kwargs), got=reply.message,
               expected="a message mentioning " + ", ".join(missing), mistake=incomplete)
    if reply.kind == "tensor" and not reply.violations:
        mistake = misconceptions.diagnose(t.module, function, reply.value, args, kwargs)
        if mistake is not None:
            t.fail(f"This call should raise {' or '.join(errors)}, but it returned a value. {why}".strip(),
                   call=t.describe(function, args, kwargs), got=compare.show(reply.value),
                   expected=f"{' or '.join(errors)} raised", mistake=mistake)
    t.expect_raises(function, *args, errors=errors, mention=mention, why=why, **kwargs)


# --- one_hot -----------------------------------------------------------------------------
def _expect_one_hot(t: CheckContext, labels: torch.Tensor, num_classes: int) -> None:
    """one_hot's result equals the reference's; float32 is checked first, so that integer
    rows with the right 0s and 1s are named as the F.one_hot habit they are."""
    reply = t.call("one_hot", labels, num_classes)
    if reply.kind == "tensor" and reply.value.dtype != torch.float32:
        expected, _ = t.reference_value("one_hot", labels, num_classes)
        right_values = reply.value.shape == expected.shape and bool((reply.value == expected.cpu()).all())
        integer = right_values and not reply.value.is_floating_point() and reply.value.dtype != torch.bool
        t.fail(f"one_hot returned {compare.dtype_name(reply.value.dtype)} rows; they should be float32, ready to "
               "multiply with log-probabilities or to serve as probability targets.",
               call=t.describe("one_hot", (labels, num_classes), {}), got=compare.show(reply.value),
               mistake="ex05.one-hot-int64" if integer else
               "ex05.one-hot-bool" if right_values and reply.value.dtype == torch.bool else None)
    t.expect_close("one_hot", labels, num_classes)


@checks.add("one_hot([1, 0], 3) is [[0., 1., 0.], [1., 0., 0.]] in float32",
            hint="Compare each label with every class index 0..C-1 (broadcasting does it in one step), and "
                 "turn the comparison into float32.")
def one_hot_worked_example(t: CheckContext) -> None:
    _expect_one_hot(t, torch.tensor([1, 0]), 3)


@checks.add("one_hot works for labels of any shape (a scalar, (N,), (N, d), an empty batch), uses num_classes "
            "even when the largest label is smaller, and stays on the labels' device", devices=True,
            hint="The result has shape (*labels.shape, num_classes): add one dimension at the end, and take "
                 "C from num_classes, never from the labels.")
def one_hot_shapes(t: CheckContext) -> None:
    _expect_one_hot(t, torch.tensor(2), 3)
    _expect_one_hot(t, torch.tensor([3, 0, 2, 1, 3, 0]), 4)
    _expect_one_hot(t, torch.tensor([1, 0, 2, 1]), 7)
    _expect_one_hot(t, t.randint(5, 2, 3), 5)
    _expect_one_hot(t, torch.zeros(0, dtype=torch.long), 5)


@checks.add("one_hot raises ValueError naming the label when one is negative or not below num_classes",
            hint="Look for labels < 0 or >= num_classes before building anything, and put the offending "
                 "label in the message.")
def one_hot_out_of_range(t: CheckContext) -> None:
    why = "A label outside [0, C) is a bug in the data (classes numbered from 1?); indexing would hide it."
    _expect_refused(t, "one_hot", torch.tensor([0, 7, 1]), 5, errors=("ValueError",), mention=("7",), why=why,
                    incomplete="ex05.one-hot-message-incomplete")
    _expect_refused(t, "one_hot", torch.tensor([2, 5, 1]), 5, errors=("ValueError",), mention=("5",), why=why,
                    incomplete="ex05.one-hot-message-incomplete")
    _expect_refused(t, "one_hot", torch.tensor([[0, 1], [-1, 2]]), 3, errors=("ValueError",), mention=("-1",),
                    why="A negative label would silently count from the end: -1 would become class C-1.")


# --- cross_entropy_full ----------------------------------------------------------------------
@checks.add("cross_entropy_full gives the exercise's worked examples: 0.307, 0.252 with weight [1, 3, 1], "
            "0.417 with the second target ignored, 0.514 smoothed and 0.807 for a probability target",
            hint="The same per-sample losses serve every option: weights scale them, ignored targets drop out "
                 "of the sum and the count, and 'mean' divides by the total weight of what is left.")
def worked_examples(t: CheckContext) -> None:
    logits = torch.tensor(WORKED_LOGITS)
    t.expect_close(CE, logits, torch.tensor([0, 1]), reduction="none")
    t.expect_close(CE, logits, torch.tensor([0, 1]))
    t.expect_close(CE, logits, torch.tensor([0, 1]), weight=torch.tensor([1.0, 3.0, 1.0]))
    ignored = t.learner.call(CE, logits, torch.tensor([0, -100]), device=t.device)
    if ignored.raised("IndexError") and not ignored.violations and names_value(ignored.message, -100):
        t.fail(f"Your code {ignored.explain()}: a target equal to ignore_index (-100 by default) is left out, "
               "not checked against [0, C)", call=t.describe(CE, (logits, torch.tensor([0, -100])), {}),
               expected="0.417", mistake="ex05.ignored-target-range-checked")
    t.expect_close(CE, logits, torch.tensor([0, -100]))
    t.expect_close(CE, logits[0], torch.tensor(0), label_smoothing=0.1)
    t.expect_close(CE, logits[0], torch.tensor([0.7, 0.2, 0.1]))


@checks.add("class-index targets on (N, C) logits match F.cross_entropy for every reduction, in float32 and "
            "float64 (precision kept), float16 and bfloat16 kept, with int64 or uint8 targets and a batch of 1",
            devices=True,
            hint="Pick each sample's log-probability of its true class with gather (uint8 targets need "
                 ".long() first); 'none' returns one loss per sample.")
def index_targets(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        _every_reduction(t, t.randn(6, 4, dtype=dtype, scale=2.0), t.randint(4, 6))
    t.expect_close(CE, t.randn(5, 3, scale=2.0), torch.tensor([2, 0, 1, 1, 2], dtype=torch.uint8))
    _every_reduction(t, t.randn(1, 5, scale=2.0), torch.tensor([3]))
    near = 1000.0 + t.randn(3, 4, dtype=torch.float64, scale=1e-3)  # float32 cannot hold these gaps
    t.expect_close(CE, near, torch.tensor([1, 3, 0]), reduction="none", what="The float64 result")
    for dtype in (torch.float16, torch.bfloat16):  # kept, not upcast to float32
        logits = t.randn(5, 4, dtype=dtype, scale=2.0)
        for reduction in ("mean", "none"):
            t.expect_close(CE, logits, torch.tensor([3, 0, 2, 2, 1]), reduction=reduction,
                           what=f"The {compare.dtype_name(dtype)} result")


@checks.add("a single (C,) sample takes a 0-d target, and (N, C, d1, d2) logits take (N, d1, d2) targets: "
            "the classes are dimension 1 and every position is one more sample", devices=True,
            hint="Move the class dimension last (movedim(1, -1)) and an (N, C, d1, d2) input becomes "
                 "N * d1 * d2 rows of C logits; 'none' returns the target's shape.")
def more_dimensions(t: CheckContext) -> None:
    _every_reduction(t, t.randn(5, scale=2.0), torch.tensor(3))
    _every_reduction(t, t.randn(2, 4, 3, 5, scale=2.0), t.randint(4, 2, 3, 5))
    _every_reduction(t, t.randn(3, 6, 2, dtype=torch.float64, scale=2.0), t.randint(6, 3, 2))


@checks.add("with `weight`, each loss is scaled by its target's class weight and 'mean' divides by the total "
            "weight of the targets, not by their number", devices=True,
            hint="w[target] gives every sample its weight; 'mean' is sum(w[y_n] * l_n) / sum(w[y_n]), so a "
                 "class of weight 3 counts like three samples.")
def weights(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        _every_reduction(t, t.randn(6, 4, dtype=dtype, scale=2.0), torch.tensor([0, 1, 1, 3, 2, 1]),
                         weight=_weight(t, 4, dtype))
    _every_reduction(t, t.randn(2, 3, 4, 2, scale=2.0), t.randint(3, 2, 4, 2), weight=_weight(t, 3))
    _every_reduction(t, t.randn(4, scale=2.0), torch.tensor(1), weight=_weight(t, 4))


@checks.add("targets equal to ignore_index cost 0 and are left out of the mean, for the default -100 and "
            "for an ignore_index that is a real class, with weights and extra dimensions too", devices=True,
            hint="Mask the ignored targets (target == ignore_index), give them weight 0, and replace them by "
                 "any valid class before indexing so gather stays in range.")
def ignore_index(t: CheckContext) -> None:
    logits = t.randn(6, 4, scale=2.0)
    _every_reduction(t, logits, torch.tensor([0, -100, 3, 1, -100, 2]))
    _every_reduction(t, logits, torch.tensor([0, 1, 3, 1, 2, 2]), ignore_index=1)
    _every_reduction(t, logits, torch.tensor([2, -100, 3, 1, -100, 1]), weight=_weight(t, 4))
    _every_reduction(t, logits, torch.tensor([0, 1, 3, 1, 2, 2]), ignore_index=2, weight=_weight(t, 4))
    spatial = t.randint(3, 2, 3, 4).masked_fill(t.rand(2, 3, 4) < 0.3, -100)
    _every_reduction(t, t.randn(2, 3, 3, 4, scale=2.0), spatial, weight=_weight(t, 3))


@checks.add("when every target is ignored, 'mean' is nan (0 / 0) as in torch, 'sum' is 0 and 'none' is all "
            "zeros, also with weights and label smoothing",
            hint="Divide by the total weight as it is: when it is 0, 0 / 0 gives nan by itself. Do not replace "
                 "the nan by 0.")
def all_ignored(t: CheckContext) -> None:
    logits = t.randn(3, 4, scale=2.0)
    options: list[dict[str, Any]] = [{}, {"weight": _weight(t, 4)}, {"label_smoothing": 0.2}]
    for kwargs in options[:2]:  # one target left: its own loss, whatever its weight
        t.expect_close(CE, logits, torch.tensor([-100, 2, -100]), **kwargs)
    for kwargs in options:
        for reduction in REDUCTIONS:
            t.expect_close(CE, logits, torch.tensor([-100, -100, -100]), reduction=reduction, **kwargs)
    t.expect_close(CE, t.randn(2, 3, 2, scale=2.0), torch.full((2, 2), 5), ignore_index=5)
    t.expect_close(CE, t.randn(4, scale=2.0), torch.tensor(-100))
    zero = torch.tensor([0.0, 1.0, 1.0, 1.0])  # the only class used has weight 0: 0 / 0 again
    t.expect_close(CE, logits, torch.tensor([0, 0, 0]), weight=zero)


@checks.add("class-probability targets (the input's shape) match for every reduction: soft and one-hot rows, "
            "(C,) and (N, C, d1, d2) inputs, and weights that scale the terms but do not divide the mean",
            devices=True,
            hint="Each sample costs -sum_c w_c * y_c * log p_c; 'mean' divides by the number of samples (times "
                 "d1 * d2), never by the weights: torch does it this way.")
def probability_targets(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        _every_reduction(t, t.randn(5, 4, dtype=dtype, scale=2.0), _soft(t, 5, 4, dtype=dtype))
    _every_reduction(t, t.randn(5, 4, scale=2.0), _soft(t, 5, 4), weight=_weight(t, 4))
    hot = torch.nn.functional.one_hot(torch.tensor([2, 0, 3, 3, 1]), 4).float()
    _every_reduction(t, t.randn(5, 4, scale=2.0), hot)
    _every_reduction(t, t.randn(5, 4, scale=2.0), hot, weight=_weight(t, 4))
    _every_reduction(t, t.randn(4, scale=2.0), _soft(t, 4))
    _every_reduction(t, t.randn(2, 3, 4, 2, scale=2.0), _soft(t, 2, 3, 4, 2), weight=_weight(t, 3))
    logits, soft = t.randn(3, 4, dtype=torch.float64), _soft(t, 3, 4, dtype=torch.float64)
    t.expect_close(CE, logits, soft, grad_wrt=(0, 1))  # torch differentiates the target too


@checks.add("label smoothing spreads eps over all C classes: for index targets (with weights, ignored targets "
            "and extra dimensions) and for probability targets", devices=True,
            hint="The smoothed target gives every class eps / C and the true class 1 - eps on top. For index "
                 "targets both parts of the loss are divided by the same total weight for 'mean'.")
def label_smoothing(t: CheckContext) -> None:
    logits = t.randn(6, 4, scale=2.0)
    target = torch.tensor([0, 1, 3, 1, 2, 2])
    _every_reduction(t, logits, target, label_smoothing=0.1)
    _every_reduction(t, logits, target, label_smoothing=0.3, weight=_weight(t, 4))
    _every_reduction(t, logits, torch.tensor([0, -100, 3, 1, -100, 2]), label_smoothing=0.2, weight=_weight(t, 4))
    _every_reduction(t, t.randn(2, 3, 3, 2, scale=2.0), t.randint(3, 2, 3, 2), label_smoothing=0.15,
                     weight=_weight(t, 3))
    t.expect_close(CE, logits, target, label_smoothing=1.0, grad_wrt=(0,))
    _every_reduction(t, logits, _soft(t, 6, 4), label_smoothing=0.2)
    _every_reduction(t, logits, _soft(t, 6, 4), label_smoothing=0.2, weight=_weight(t, 4))
    t.expect_close(CE, t.randn(5, scale=2.0), torch.tensor(4), label_smoothing=0.3, grad_wrt=(0,))


@checks.add("cross_entropy_full is exact for logits as large as 1e4 and -1e4, with index and probability "
            "targets (no inf, no nan)", devices=True,
            hint="Everything goes through a stable log_softmax (your ex03, or torch.logsumexp); never take the "
                 "log of a probability.")
def stability(t: CheckContext) -> None:
    for dtype in (torch.float32, torch.float64):
        logits = large_logits(dtype)
        _every_reduction(t, logits, LARGE_LOGITS_TARGET, weight=_weight(t, 4, dtype), label_smoothing=0.1)
        _every_reduction(t, logits, _soft(t, 4, 4, dtype=dtype))


@checks.add("a class index outside [0, C) that is not ignore_index raises IndexError naming it, like torch's "
            "'Target 5 is out of bounds.'",
            hint="Check (target < 0) | (target >= C) only where target != ignore_index, and put the offending "
                 "target in the message.")
def target_out_of_range(t: CheckContext) -> None:
    logits = t.randn(4, 3)
    why = "A target outside [0, C) is a bug in the data (classes numbered from 1?); indexing would hide it."
    _expect_index_error(t, logits, torch.tensor([0, 1, 5, 2]), 5, why=why)
    _expect_index_error(t, logits, torch.tensor([0, -1, 1, 2]), -1, why=why)
    _expect_index_error(t, t.randn(2, 3, 2), torch.tensor([[0, 3], [1, 1]]), 3)
    _expect_index_error(t, logits, torch.tensor([0, -100, 1, 2]), -100, ignore_index=1,
                        why="With ignore_index=1, -100 is an ordinary (invalid) target.")


def _expect_index_error(t: CheckContext, logits: torch.Tensor, target: torch.Tensor, bad: int, why: str = "",
                        **kwargs: Any) -> None:
    """IndexError naming `bad`; another error type whose message names it is the catalogued mistake
    of raising the wrong type (the check was written, the contract's type was not kept)."""
    reply = t.learner.call(CE, logits, target, device=t.device, **kwargs)
    if (reply.kind == "raised" and not reply.raised("IndexError") and not reply.not_implemented
            and names_value(reply.message, bad)):
        t.fail(f"This call should raise IndexError (as torch does), but your code {reply.explain()}",
               call=t.describe(CE, (logits, target), kwargs), expected="IndexError raised",
               mistake="ex05.target-error-not-indexerror")
    t.expect_raises(CE, logits, target, errors=("IndexError",), mention=(str(bad),), why=why, **kwargs)


@checks.add("cross_entropy_full raises what torch raises: ValueError for an unknown reduction or a batch size "
            "mismatch, RuntimeError for int32 targets, integer one-hot rows, a weight of the wrong length, "
            "label_smoothing above 1, or ignore_index >= 0 with probability targets",
            hint="Validate before computing: the docstring lists each error. A target of the input's shape "
                 "must be floating point (probabilities); any other target must be int64 or uint8.")
def bad_arguments(t: CheckContext) -> None:
    logits, target = t.randn(4, 3), torch.tensor([0, 2, 1, 1])
    for reduction in ("average", "MEAN"):
        t.expect_raises(CE, logits, target, reduction=reduction, errors=("ValueError",))
    why = "Four rows of logits and three targets cannot be paired up; something upstream dropped a sample."
    t.expect_raises(CE, logits, target[:3], errors=("ValueError",), why=why)
    _expect_refused(t, CE, logits, target.to(torch.int32), errors=("RuntimeError",),
                    why="torch wants class indices as int64 (or uint8).")
    _expect_refused(t, CE, logits, torch.nn.functional.one_hot(target, 3), errors=("RuntimeError",),
                    why="Integer rows of the input's shape are one-hot labels given where class indices were "
                        "expected; probability targets must be floating point.")
    t.expect_raises(CE, logits, target, weight=torch.ones(4), errors=("RuntimeError",),
                    why="One weight per class: 3 classes, 4 weights.")
    t.expect_raises(CE, logits, _soft(t, 4, 3), weight=torch.ones(2), errors=("RuntimeError",),
                    why="One weight per class: 3 classes, 2 weights.")
    _expect_refused(t, CE, logits, target, label_smoothing=1.5, errors=("RuntimeError",))
    _expect_refused(t, CE, logits, _soft(t, 4, 3), ignore_index=1, errors=("RuntimeError",),
                    why="Probability targets have no class index to ignore.")

"""The false verdicts an independent audit of ex01-ex05 found (issue 17, second round), each
graded through the checks: a wrong implementation fails and its mistake is named. The
corpus (tests/corpus/exNN/*/audit_*.py) holds the same cases as learner files, graded by
`lossgrade grade` in tests/test_corpus.py."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from conftest import grade_inprocess
from lossgrade.core.results import ExerciseResult, Outcome, Status


def _named(result: ExerciseResult) -> set[str]:
    return {c.misconception.id for c in result.checks
            if c.outcome not in (Outcome.PASSED, Outcome.SKIPPED) and c.misconception}


def _mse_in_place(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> Any:
    if input.shape != target.shape:
        raise ValueError(f"{tuple(input.shape)} vs {tuple(target.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    d = input.sub_(target) if not input.requires_grad else input - target  # the caller's tensor changes
    return {"mean": (d**2).mean, "sum": (d**2).sum}.get(reduction, lambda: d**2)()


def test_a_loss_that_changes_its_input_in_place_fails_and_is_named():
    result = grade_inprocess("ex01", {"mse_loss": _mse_in_place})
    assert result.status is Status.FAILED
    assert _named(result) == {"ex01.inputs-modified"}
    failed = [c for c in result.checks if c.outcome is not Outcome.PASSED and c.outcome is not Outcome.SKIPPED]
    assert "changed a tensor it was given in place (argument 1)" in failed[0].feedback.message


def test_a_python_number_and_a_detached_result_are_named():
    def as_number(input, target, reduction="mean"):
        out = F.mse_loss(input, target, reduction=reduction) if input.shape == target.shape else None
        if out is None or reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{tuple(input.shape)} vs {tuple(target.shape)}")
        return out.item() if out.dim() == 0 else out

    def detached(input, target, reduction="mean"):
        out = as_number(input, target, reduction)
        return torch.tensor(out, dtype=input.dtype) if isinstance(out, float) else out

    assert _named(grade_inprocess("ex01", {"mse_loss": as_number})) == {"ex01.returns-python-number"}
    assert _named(grade_inprocess("ex01", {"mse_loss": detached})) == {"ex01.result-detached"}


def test_runtime_error_where_the_docstring_promises_value_error_fails_and_is_named():
    def huber(input, target, reduction="mean", delta=1.0):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(reduction)
        return F.huber_loss(input, target, reduction=reduction, delta=delta)  # RuntimeError for delta <= 0

    result = grade_inprocess("ex02", {"huber_loss": huber})
    assert result.status is Status.FAILED and _named(result) == {"ex02.delta-not-valueerror"}

    def bce(input, target, reduction="mean"):
        if reduction not in ("mean", "sum", "none") or input.shape != target.shape:
            raise ValueError("bad arguments")
        return F.binary_cross_entropy(input, target, reduction=reduction)  # RuntimeError outside [0, 1]

    result = grade_inprocess("ex04", {"binary_cross_entropy": bce})
    assert result.status is Status.FAILED and _named(result) == {"ex04.range-not-valueerror"}


def test_ex03_value_error_for_an_out_of_range_target_is_named():
    def cross_entropy(logits, target, reduction="mean"):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(reduction)
        if logits.dim() == 2 and target.shape[0] != logits.shape[0]:
            raise ValueError("batch sizes differ")
        outside = (target < 0) | (target >= logits.shape[-1])
        if outside.any():
            raise ValueError(f"Target {target[outside].flatten()[0].item()} is out of bounds.")
        return F.cross_entropy(logits, target, reduction=reduction)

    result = grade_inprocess("ex03", {"cross_entropy": cross_entropy})
    assert result.status is Status.FAILED and _named(result) == {"ex03.target-error-not-indexerror"}

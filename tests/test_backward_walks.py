"""A worker walks a call's backward graph a second time only where Python code ran in the
first walk (sandbox/_results.py: gradients, _first_backward): torch's own derivative
formulas change nothing that forward saved, while a custom backward, a hook or an unpack
hook can, and then the second walk finds it."""
from __future__ import annotations

from typing import Any

import pytest
import torch

from lossgrade.sandbox.inprocess import _RESULTS as worker


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each walk through torch.autograd.grad that a worker's gradients() makes: the second
    walk, or the first where it cannot tell whether Python ran. (The engine's own entry is
    left alone: a Python wrapper around it would be Python running in the first walk.)"""
    seen: list[str] = []
    grad = worker._AUTOGRAD_GRAD

    def counted(*args: Any, **kwargs: Any) -> Any:
        seen.append("autograd.grad")
        return grad(*args, **kwargs)

    monkeypatch.setattr(worker, "_AUTOGRAD_GRAD", counted)
    return seen


def leaf(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


def test_torch_formulas_alone_are_walked_once_with_the_same_gradients(walks: list[str]) -> None:
    x, w = leaf(4, 3), torch.randn(4, 3, dtype=torch.float64)
    out = torch.nn.functional.cross_entropy(x, torch.tensor([0, 2, 1, 0]), reduction="none")
    grads = worker.gradients(out, [x], w[:, 0])
    assert walks == []
    expected, = torch.autograd.grad((out * w[:, 0]).sum(), [x], retain_graph=True)
    assert torch.equal(grads[0], expected)


class Doubled(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x * 2

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad * 2


class Spoiling(torch.autograd.Function):
    """Right on the first walk; its backward changes what forward kept for it."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.factor = torch.full_like(x, 2.0)  # kept on ctx, not through save_for_backward: no version check
        return x * 2

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        result = grad * ctx.factor
        ctx.factor.sub_(1)
        return result


def test_a_custom_backward_is_walked_twice(walks: list[str]) -> None:
    x = leaf(3)
    grads = worker.gradients(Doubled.apply(x), [x], None)
    assert walks == ["autograd.grad"] and torch.equal(grads[0], torch.full((3,), 2.0, dtype=torch.float64))


def test_a_custom_backward_that_spoils_what_forward_saved_is_named(walks: list[str]) -> None:
    x = leaf(3)
    found = worker.gradients(Spoiling.apply(x), [x], None)
    assert isinstance(found, str) and worker.SAVED_CHANGED in found and "another gradient" in found


def test_a_hook_that_changes_a_saved_tensor_is_named(walks: list[str]) -> None:
    x = leaf(3)
    exp = (x * 1.0).exp()  # exp's backward keeps its result

    def spoil(grad: torch.Tensor) -> None:
        exp.data.mul_(2)  # through .data: its version counter does not count it

    exp.register_hook(spoil)
    found = worker.gradients(exp, [x], None)
    assert walks == ["autograd.grad"]
    assert isinstance(found, str) and worker.SAVED_CHANGED in found and "another gradient" in found


def test_an_unpack_hook_makes_the_second_walk(walks: list[str]) -> None:
    x = leaf(3)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        out = (x.exp() * x).sum()
    assert isinstance(worker.gradients(out, [x], None), list)
    assert walks == ["autograd.grad"]


def test_a_complex_result_keeps_autograds_own_path(walks: list[str]) -> None:
    x = torch.randn(3, dtype=torch.complex128, requires_grad=True)
    found = worker.gradients(x * 2, [x], None)
    assert walks == ["autograd.grad"] and isinstance(found, str) and found.startswith("backward failed")


def test_a_profiler_already_on_is_left_alone_and_both_walks_run(walks: list[str]) -> None:
    """In our own process (plans, tests, bench/profile_grading.py --cprofile)."""
    import sys

    events: list[str] = []
    x = leaf(3)
    sys.setprofile(lambda frame, event, arg: events.append(event))
    try:
        worker.gradients((x.exp() * x).sum(), [x], None)
        after = len(events)
        len([1])  # a C call: the profiler still sees it
    finally:
        sys.setprofile(None)
    assert walks == ["autograd.grad", "autograd.grad"] and len(events) > after

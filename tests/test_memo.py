"""The content keys of core/memo.py: equal inputs find the entry, and no different one can."""
from __future__ import annotations

import torch

from lossgrade.core import memo
from lossgrade.checks.ahead import same


def key(value: object) -> object:
    memo.forget_recent()
    return memo.key_of(value)


def test_keys_tell_apart_what_a_reference_would_compute_differently() -> None:
    base = torch.tensor([1.0, 2.0])
    assert key(base) == key(base.clone())
    different = [
        torch.tensor([1.0, 2.5]),  # values
        base.double(),  # dtype
        base.reshape(2, 1),  # shape
        base.clone().requires_grad_(True),  # requires_grad
    ]
    assert len({key(base), *(key(d) for d in different)}) == 1 + len(different)
    assert key(torch.tensor([0.0])) != key(torch.tensor([-0.0]))
    assert key(torch.tensor([float("nan")])) == key(torch.tensor([float("nan")]))
    assert key(torch.ones(3, dtype=torch.bfloat16)) != key(torch.ones(3, dtype=torch.float16))
    assert key(torch.ones(3, dtype=torch.bfloat16)) == key(torch.ones(3, dtype=torch.bfloat16))
    assert key(torch.arange(6.0).reshape(2, 3).t()) == key(torch.arange(6.0).reshape(2, 3).t().contiguous())
    assert key((1, True, 1.0, "1")) == key((1, True, 1.0, "1"))
    assert len({key(1), key(True), key(1.0), key("1"), key(0.0), key(-0.0)}) == 6
    assert key([base]) != key((base,))


def test_a_kept_key_is_read_again_once_its_tensor_changes_in_place() -> None:
    x = torch.tensor([1.0, 2.0])
    memo.forget_recent()
    before = memo.key_of(x)
    x.add_(1)  # counted by torch's version counter: read again, even before `forget_recent`
    assert memo.key_of(x) != before
    assert memo.key_of(x) == key(torch.tensor([2.0, 3.0]))


def test_every_learner_call_forgets_the_kept_keys() -> None:
    """A change that torch's version counter does not count (through .data) is still seen
    from the next call on: `Checked` forgets the kept keys at every call."""
    from lossgrade.checks.framework import Checked
    from lossgrade.sandbox.inprocess import InProcessLearner

    class Module:
        @staticmethod
        def f(x: torch.Tensor) -> torch.Tensor:
            return x * 2

    x = torch.tensor([1.0, 2.0])
    before = memo.key_of(x)
    x.data[0] = 5.0
    assert memo.key_of(x) == before  # kept, within one call's look-ups
    Checked(InProcessLearner(Module, ("f",))).call("f", x)
    assert memo.key_of(x) != before
    assert not same({"x": [x]}, {"x": [torch.tensor([1.0, 2.0])]})


def test_a_memo_computes_once_per_equal_input() -> None:
    computed = []
    table = memo.Memo(limit=2)

    def compute(value: torch.Tensor) -> float:
        computed.append(value)
        return float(value.sum())

    for value in (torch.ones(2), torch.ones(2), torch.zeros(2), torch.ones(2)):
        memo.forget_recent()
        assert table.get((value,), lambda v=value: compute(v)) == float(value.sum())
    assert len(computed) == 2


def test_a_mistakes_output_is_computed_once_per_equal_input_and_for_that_function_alone() -> None:
    """What a catalogued mistake computes from a check's inputs (the diagnosis compares it
    with each learner's result) is kept per grader process: computed again for other
    inputs, for another function, or where the catalogue's function is another object; a
    mistake that raises is remembered as raising."""
    from lossgrade.misconceptions import _diagnosis as diagnosis

    calls = []

    def wrong(x: torch.Tensor) -> torch.Tensor:
        calls.append(x)
        return x * 3

    def raises(x: torch.Tensor) -> torch.Tensor:
        calls.append(x)
        raise ValueError("cannot")

    mistake = diagnosis.Mistake("test.times-three", "f", "x3", "three times", None, wrong=wrong)
    x = torch.tensor([1.0, 2.0])
    first = diagnosis._output(mistake, "f", wrong, (x,), {})
    memo.forget_recent()
    again = diagnosis._output(mistake, "f", wrong, (torch.tensor([1.0, 2.0]),), {})
    assert again is first and torch.equal(first, torch.tensor([3.0, 6.0])) and len(calls) == 1
    assert calls[0] is not x  # on a copy: a mistake that changes its inputs leaves the check's alone
    diagnosis._output(mistake, "f", wrong, (torch.tensor([1.0, 5.0]),), {})
    assert len(calls) == 2
    other = diagnosis.Mistake("test.times-three", "f", "x3", "three times", None, wrong=lambda x: x * 4)
    assert diagnosis._output(other, "f", other.wrong, (x,), {}).tolist() == [4.0, 8.0]  # another catalogue's
    failing = diagnosis.Mistake("test.raises", "f", "raises", "raises", None, wrong=raises)
    assert diagnosis._output(failing, "f", raises, (x,), {}) is diagnosis._Raised
    assert diagnosis._output(failing, "f", raises, (x,), {}) is diagnosis._Raised and len(calls) == 3


def test_a_mistaken_classs_method_is_kept_by_its_class() -> None:
    """`Mistake.computes` gives a class's method as a new object at each look-up: its output
    is kept by the class, and found again."""
    from lossgrade.misconceptions import _diagnosis as diagnosis

    calls = []

    class Wrong:  # as a wrong torch.autograd.Function is: its apply is a classmethod
        @classmethod
        def apply(cls, x: torch.Tensor) -> torch.Tensor:
            calls.append(x)
            return x.sum()

    mistake = diagnosis.Mistake("test.sum", "Wrong", "sum", "sums", None, wrong=Wrong)
    x = torch.tensor([1.0, 2.0])
    assert mistake.computes("Wrong.apply") is not mistake.computes("Wrong.apply")
    first = diagnosis._output(mistake, "Wrong.apply", mistake.computes("Wrong.apply"), (x,), {})
    assert diagnosis._output(mistake, "Wrong.apply", mistake.computes("Wrong.apply"), (x,), {}) is first
    assert len(calls) == 1 and float(first) == 3.0

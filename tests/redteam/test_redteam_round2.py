"""Red team, round 2: new attacks on the defences of issue 15, and honest code they refused.

Each hostile case (`cases/round2_*.py`, also graded by test_redteam.py with its good
baseline, canary and strays) gets score 0 through `lossgrade check`, through batch grading
beside good submissions (which keep their marks), and with `--strong`. Where a fix has a
second wall behind the scan (the worker's guards), the case is graded past the scan too.
The scan's unit tests below name each route that was open, and each honest idiom that was
refused and now passes.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.core.results import Outcome
from lossgrade.sandbox import scan
from lossgrade.sandbox.client import Limits, Sandbox

from .conftest import SOLUTIONS, signature
from .test_redteam import CASES, Case, exercise_for, feedback_text

ROUND2 = [case for case in CASES if case.name.startswith("round2_")]


def _strong_or_skip() -> None:
    from lossgrade.sandbox import strong as strong_mode

    usable, why = strong_mode.available()
    if not usable:
        pytest.skip(why)


def test_round2_cases_are_there():
    assert len(ROUND2) >= 2
    assert all(case.score == 0 and case.mentions for case in ROUND2)


CHECKED = [(case, False) for case in ROUND2] + [(case, True) for case in ROUND2]


@pytest.mark.parametrize("case, strong", CHECKED, ids=[f"{c.name}{'-strong' if s else ''}" for c, s in CHECKED])
def test_lossgrade_check_gives_round2_cases_zero_naming_the_attempt(case: Case, strong: bool, tmp_path: Path):
    if strong:
        _strong_or_skip()
    exercise = exercise_for(case)
    (tmp_path / exercise.file).write_text(case.source)
    done = subprocess.run([sys.executable, "-m", "lossgrade", "check", exercise.id, "-w", str(tmp_path), "--json",
                           "--timeout", str(case.timeout), *(["--strong"] if strong else [])],
                          capture_output=True, check=False, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    results = json.loads(done.stdout)
    assert [(r["exercise"], r["score"]) for r in results] == [(exercise.id, 0.0)]
    assert case.mentions in done.stdout


@pytest.mark.parametrize("strong", [False, True], ids=["default", "strong"])
def test_lossgrade_grade_gives_round2_cases_zero_and_good_ones_their_marks(strong: bool, tmp_path: Path, good):
    if strong:
        _strong_or_skip()
    from lossgrade.grading import grade

    root = tmp_path / "class"
    chosen = sorted({case.exercise for case in ROUND2})
    for learner in ("good-first", "good-last"):
        (root / learner).mkdir(parents=True)
        for exercise_id in chosen:
            exercise = catalog.resolve(exercise_id)
            (root / learner / exercise.file).write_text((SOLUTIONS / exercise.file).read_text())
    for case in ROUND2:
        exercise = catalog.resolve(case.exercise)
        (root / case.name).mkdir(parents=True)
        (root / case.name / exercise.file).write_text(case.source)
    batch = grade.grade_class(root, tmp_path / "results", jobs=2, chosen=chosen, strong=strong)
    assert not batch.grader_failed, batch.problems
    found = {r.learner: {e.exercise: e for e in r.result.exercises} for r in batch.records}
    assert {case.name: found[case.name][case.exercise].score for case in ROUND2} == {c.name: 0.0 for c in ROUND2}
    for exercise_id in chosen:
        first, last = found["good-first"][exercise_id], found["good-last"][exercise_id]
        assert first.score == last.score == catalog.resolve(exercise_id).points
        if not strong:
            assert signature(first) == signature(last) == good.baseline(catalog.resolve(exercise_id))


# --- past the scan: the worker's own walls ---------------------------------------------------------
def _past_the_scan(sandbox: Sandbox, name: str):
    case = next(c for c in ROUND2 if c.name == name)
    exercise = exercise_for(case)
    return runner.grade_exercise(sandbox, exercise, {exercise.file: case.source}, Limits(call_seconds=case.timeout),
                                 scanned=False)


def test_past_the_scan_a_pickle_cannot_switch_the_rule_off(sandbox):
    """The worker refuses to unpickle while learner code runs, so the payload never runs and
    the forbidden call is caught and named."""
    result = _past_the_scan(sandbox, "round2_pickle_payload")
    assert result.score == 0.0
    counted = [c for c in result.checks if c.outcome is not Outcome.SKIPPED]
    assert counted and all(c.outcome is Outcome.FAILED for c in counted)
    assert "torch.nn.functional.log_softmax" in feedback_text(result)


def test_past_the_scan_text_run_as_code_is_refused(sandbox):
    """A jinja2 template (or sympy's sympify, an eval in the standard library) is code the
    scan never read: the worker refuses every exec but the import system's and the
    standard library's class builders while learner code runs."""
    result = _past_the_scan(sandbox, "round2_text_run_as_code")
    assert result.score == 0.0
    assert "may not run code built from text (exec)" in feedback_text(result)


def test_honest_classes_built_from_text_still_work(sandbox):
    """dataclasses and namedtuple build their methods with exec: still allowed."""
    exercise = catalog.resolve("ex01")
    source = (SOLUTIONS / exercise.file).read_text() + DATACLASSES
    result = runner.grade_exercise(sandbox, exercise, {exercise.file: source})
    assert result.score == exercise.points, feedback_text(result)


DATACLASSES = '''

import collections
import dataclasses
import typing

Pair = collections.namedtuple("Pair", "a b")


class Named(typing.NamedTuple):
    a: int
    b: float = 0.0


@dataclasses.dataclass(frozen=True)
class Config:
    reduction: str = "mean"


_original = mse_loss


def mse_loss(input, target, reduction="mean"):
    @dataclasses.dataclass
    class Local:
        x: int = Pair(1, 2).a + Named(1).a

    Local()
    return _original(input, target, reduction=Config(reduction).reduction)
'''


# --- the scan: routes that were open ---------------------------------------------------------------
REFUSED = {
    # getattr passed around as a value looks up names the source does not show
    "import functools, torch\nx = functools.reduce(getattr, ['_C'], torch.nn)": 2,
    "import torch\nx = list(map(getattr, [torch.nn], ['_C']))": 2,
    "import functools, torch\np = functools.partial(getattr, torch.nn)": 2,
    "g = getattr\n": 1, "def f(g=getattr):\n    return g": 1, "(g := setattr)": 1, "x = {'d': delattr}": 1,
    "class A:\n    g = staticmethod(getattr)": 2, "@getattr\ndef f():\n    pass": 1,
    # attribute lookups and imports by text
    "import string\nx = string.Formatter().get_field('0.__globals__', (print,), {})": 2,
    "import torch\nm = torch.package.sys_importer.import_module('gc')": 2,
    # unpickling: code hidden in data
    "import torch\nx = torch.load('w.pt', weights_only=False)": 2, "import torch\nx = torch.load('w.pt')": 2,
    "from torch import load": 1, "import torch.serialization": 1, "import torch\nf = torch.serialization.load": 2,
    "import numpy as np\nx = np.load('a.npy', allow_pickle=True)": 1, "import torch\nf = torch.hub.load": 2,
    "import torch.package": 1, "x = f(weights_only=flag)": 1,
    # torch's dependencies and the test runner run text as code or import by name
    "import jinja2": 1, "import sympy as sp": 1, "import torch\nm = torch.fx.experimental.symbolic_shapes.sympy": 2,
    "import pytest": 1, "from _pytest import monkeypatch": 1, "x = y.importorskip('builtins').getattr": 1,
    "x = b.getattr(a, n)": 1, "x = m.sympify('1')": 1, "import rlcompleter": 1,
    # a parameter checked against written-out names is read name by name, only where sure
    "def f(x, r='mean'):\n    if r not in ('mean', '__class__'):\n        raise ValueError(r)\n    return getattr(x, r)": 4,
    "def f(x, r='mean'):\n    y = getattr(x, r)\n    if r not in ('mean',):\n        raise ValueError(r)\n    return y": 2,
    "def f(x, r='mean'):\n    if r not in ('mean',):\n        raise ValueError(r)\n    r = '_C'\n    return getattr(x, r)": 5,
    "def f(x, r='mean'):\n    g = lambda: getattr(x, r)\n    if r not in ('mean',):\n        raise ValueError(r)\n    return g()": 2,
    "R = ('mean',)\nR = ('_C',)\ndef f(x, r='mean'):\n    if r not in R:\n        raise ValueError(r)\n    return getattr(x, r)": 6,
    "def f(x, r='mean'):\n    if r not in ('mean',):\n        print(r)\n    return getattr(x, r)": 4,
    ("def f(x, r='mean'):\n    if r not in ('mean',):\n        raise ValueError\n    def h():\n        nonlocal r\n"
     "        r = '_C'\n    h()\n    return getattr(x, r)"): 8,
    "import torch\ndef f(x, n='load'):\n    if n not in ('load',):\n        raise ValueError\n    return getattr(torch, n)": 5,
    # raw memory of the worker through numpy (as_strided, the array protocols)
    "import numpy as np\nv = np.lib.stride_tricks.as_strided(a, (2,), (8,))": 1,
    "from numpy.lib.stride_tricks import as_strided": 1, "import numpy as np\nx = np.zeros(1).__array_interface__": 1,
    "class W:\n    @property\n    def __array_interface__(self):\n        return {}": 3,
    "class W:\n    __array_interface__ = {}": 2, "import numpy as np\nb = np.byte_bounds(x)": 1,
    # a module's own __getattr__ imports its private submodules by text
    "import torch\nd = torch.__getattr__('_dynamo')": 2, "import torch\nd = getattr(torch, '__getattr__')": 2,
    # a loop over written-out names is read name by name; any other binding of it is not
    "import torch\nfor n in ('relu', '_C'):\n    getattr(torch, n)": 3,
    "import torch\nfor n in ('relu',):\n    pass\nn = '_C'\ngetattr(torch, n)": 5,
    "import torch\nfor n in ('relu',):\n    pass\ndef f(n):\n    return getattr(torch, n)": 5,
    "import torch\nfor n in ('relu',):\n    setattr(torch, n, print)": 3,
    "import torch\nx = getattr(torch, 'load')": 2, "import sys\nx = hasattr(sys, 'modules')": 2,
    # replacing what a module holds through a loop's or a `with`'s target
    "import torch.nn.functional as F\nfor F.cross_entropy in [print]:\n    pass": 2,
    "import torch.nn.functional as F, contextlib\nwith contextlib.nullcontext(print) as F.nll_loss:\n    pass": 2,
    # `if __name__ == "__main__":` is not read, so nothing may make it run
    "__name__ = '__main__'\nif __name__ == '__main__':\n    import gc": 1,
    "import ex01_mse as me\nme.__name__ = '__main__'\nif __name__ == '__main__':\n    import gc": 2,
    "def f():\n    global __name__\n    __name__ = '__main__'\nif __name__ == '__main__':\n    import gc": 2,
    "import os as __name__": 1, "for __name__ in ['__main__']:\n    pass": 1,
    "if (__name__ := '__main__') == '__main__':\n    pass": 1,
    "if __name__ == '__main__':\n    pass\nelse:\n    import gc": 4,
    "def f():\n    if __name__ == '__main__':\n        import gc": 3,
}


@pytest.mark.parametrize("source, line", REFUSED.items(), ids=list(range(len(REFUSED))))
def test_the_scan_refuses_round2_routes_with_the_line(source: str, line: int):
    refusal = scan.scan({"ex01_mse.py": source})
    assert refusal is not None and refusal.line == line, (source, refusal)
    assert f"line {line} of ex01_mse.py" in refusal.message


# --- the scan: honest idioms it must leave alone -----------------------------------------------------
ALLOWED = [
    "import json\nd = json.loads('{}')\nclass A:\n    def load(self):\n        return self",
    "import functools\n@functools.lru_cache(maxsize=None)\ndef f(n):\n    return n",
    "import torch\nfrom torch.nn import functional\ndef f(x):\n    return functional.relu(x)",
    # false refusals of round 1, now read precisely
    "import torch\nfor name in ('relu', 'tanh'):\n    f = getattr(torch, name)",
    "import torch\nFNS = {n: getattr(torch, n) for n in ('exp', 'log')}",
    "import torch\nif hasattr(torch, 'special'):\n    f = getattr(torch.special, 'xlogy', None)",
    "import torch.nn.functional as F\nrelu = getattr(F, 'relu')",
    "import sys\nif __name__ == '__main__':\n    print(sys.argv)",
    ('def f():\n    """\n    >>> f()\n    1\n    """\n    return 1\n\n\nif __name__ == "__main__":\n'
     '    import doctest\n    import timeit\n    doctest.testmod()\n    print(timeit.timeit("f()", globals=globals()))'),
    "def deco(f):\n    def w():\n        return f()\n    w.__name__ = f.__name__\n    return w",
    ("def f(x, reduction='mean'):\n    if reduction not in ('mean', 'sum', 'none'):\n        raise ValueError(reduction)\n"
     "    return x if reduction == 'none' else getattr(x, reduction)()"),
    "import torch\nclass M(torch.nn.Module):\n    def __getattr__(self, n):\n        return super().__getattr__(n)",
    ("REDUCTIONS = {'mean': 0, 'sum': 1, 'none': 2}\ndef f(x, reduction='mean'):\n    if reduction not in REDUCTIONS:\n"
     "        raise ValueError(reduction)\n    return getattr(x, reduction)()"),
]


@pytest.mark.parametrize("source", ALLOWED, ids=list(range(len(ALLOWED))))
def test_the_scan_leaves_round2_idioms_alone(source: str):
    assert scan.scan({"ex01_mse.py": source}) is None


HONEST_TAIL = '''

import sys as _sys

REDUCERS = {name: getattr(torch, name) for name in ("mean", "sum")}
if hasattr(torch, "special"):
    pass


if __name__ == "__main__":
    import doctest
    import timeit

    doctest.testmod()
    print(timeit.timeit("1 + 1", number=10), _sys.argv)
'''


def test_a_correct_submission_with_those_idioms_gets_full_marks(sandbox):
    exercise = catalog.resolve("ex01")
    source = (SOLUTIONS / exercise.file).read_text() + HONEST_TAIL
    assert "import torch" in source
    result = runner.grade_exercise(sandbox, exercise, {exercise.file: source})
    assert result.score == exercise.points, feedback_text(result)


RAW_MEMORY = '''
import numpy as np
import torch

MARK = "lossgrade-round2-memory-mark"


class Window:
    """numpy asks an object for its array interface by name: __getattr__ answers."""

    def __init__(self, address, size):
        self.address, self.size = address, size

    def __getattr__(self, name):
        if name.startswith("__array_int"):
            return {"data": (self.address, False), "shape": (self.size,), "typestr": "|u1", "version": 3}
        raise AttributeError(name)


READ = bytes(np.asarray(Window(id(MARK), 200))).find(MARK.encode()) >= 0


def mse_loss(input, target, reduction="mean"):
    if not READ:
        raise RuntimeError("no raw memory")
    squared = (input - target) ** 2
    return squared if reduction == "none" else squared.sum() if reduction == "sum" else squared.mean()
'''


def test_numpy_array_protocol_gives_no_raw_memory(sandbox):
    """numpy is not in a worker at all (the zygote keeps it out before torch loads): its array
    protocols answer an object's `__getattr__` or instance dict, which no scan can see. The
    scan refuses the import with the line; past the scan, the import fails in the worker."""
    exercise = catalog.resolve("ex01")
    refusal = scan.scan({exercise.file: RAW_MEMORY})
    assert refusal is not None and refusal.line == 2 and "numpy, which is not available" in refusal.message
    result = runner.grade_exercise(sandbox, exercise, {exercise.file: RAW_MEMORY})
    assert result.score == 0.0 and "numpy, which is not available" in feedback_text(result)
    result = runner.grade_exercise(sandbox, exercise, {exercise.file: RAW_MEMORY}, scanned=False)
    assert result.score == 0.0
    assert "numpy" in feedback_text(result) and "ModuleNotFoundError" in feedback_text(result)


TORCH_PROTOCOLS = '''
import torch

MARK = "lossgrade-round3-memory-mark"


class Window:
    def __init__(self, address):
        self.address = address

    def __getattr__(self, name):
        if name.endswith("array_interface__"):
            return {"data": (self.address, False), "shape": (200,), "typestr": "|u1", "version": 2}
        if name == "__dlpack__":
            return lambda *a, **k: self
        raise AttributeError(name)


def mse_loss(input, target, reduction="mean"):
    tried = []
    for make in (torch.as_tensor, torch.tensor, torch.asarray, torch.from_dlpack, input.new_tensor):
        try:
            make(Window(id(MARK)))
            tried.append("GOT-MEMORY")
        except Exception as exc:
            tried.append(type(exc).__name__ + ": " + str(exc)[:60])
    try:
        input.numpy()
        tried.append("GOT-AN-ARRAY")
    except Exception as exc:
        tried.append(type(exc).__name__ + ": " + str(exc)[:60])
    raise RuntimeError(" | ".join(tried))
'''


def test_torch_array_protocols_give_no_raw_memory(sandbox):
    """torch's own routes to an object's memory (`__cuda_array_interface__` needs numpy;
    `__dlpack__` needs a capsule torch made) refuse a learner's object, in the worker."""
    exercise = catalog.resolve("ex01")
    refusal = scan.scan({exercise.file: TORCH_PROTOCOLS})  # only `.numpy()` is in sight: the worker holds
    assert refusal is not None and refusal.code == "input.numpy()"
    result = runner.grade_exercise(sandbox, exercise, {exercise.file: TORCH_PROTOCOLS}, scanned=False)
    text = feedback_text(result)
    assert result.score == 0.0
    assert "GOT-MEMORY" not in text and "GOT-AN-ARRAY" not in text, text
    assert text.count("Numpy is not available") >= 3, text

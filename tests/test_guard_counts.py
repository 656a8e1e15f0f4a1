"""A worker's guards see torch's sealed namespaces unchanged through CPython's count of each
dict's changes (sandbox/_guards.py: `_change_counter`), and compare every name only where a
count moved: every replacement, addition and deletion is still found and undone, and a
stretch that changes nothing costs no name-by-name comparison. Run in a subprocess: sealing
installs an audit hook for the rest of the process's life."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import lossgrade.sandbox

SANDBOX = Path(lossgrade.sandbox.__file__).parent

SCRIPT = textwrap.dedent("""
    import ctypes, json, sys, tempfile
    sys.path.insert(0, sys.argv[1])
    import _guards
    import torch

    guards = _guards.Guards()
    guards.seal(tempfile.mkdtemp())

    def stretch(change=lambda: None):
        before = list(guards._seen)
        with guards.learner_code([]):
            change()
        return before != list(guards._seen)  # a count moved: every name was compared

    out = {"counted": len(guards._counts) == len(guards._frozen) > 0, "steps": []}
    step = out["steps"].append
    original = torch.optim.Optimizer.zero_grad
    step(["nothing", stretch(), list(guards.violations)])
    step(["replaced", stretch(lambda: setattr(torch.optim.Optimizer, "zero_grad", len)), list(guards.violations),
          torch.optim.Optimizer.zero_grad is original])
    del guards.violations[:]
    train = torch.nn.Module.train
    step(["replaced and put back", stretch(lambda: (setattr(torch.nn.Module, "train", len),
                                                     setattr(torch.nn.Module, "train", train))),
          list(guards.violations)])
    step(["added", stretch(lambda: setattr(torch.nn.Parameter, "extra", 1)), list(guards.violations),
          "extra" in torch.nn.Parameter.__dict__])
    del guards.violations[:]
    step(["nothing again", stretch(), list(guards.violations)])
    x = torch.zeros(2)
    try:
        with guards.learner_code([]):
            ctypes.string_at(x.data_ptr(), 8)
        step(["string_at", "read"])
    except PermissionError as exc:
        step(["string_at", str(exc)])
    print(json.dumps(out))
""")


def test_a_sealed_namespace_is_compared_name_by_name_only_where_its_count_moved() -> None:
    import json

    done = subprocess.run([sys.executable, "-c", SCRIPT, str(SANDBOX)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["counted"]  # CPython 3.10-3.13 keeps the count where the self-test found it
    steps = {s[0]: s[1:] for s in out["steps"]}
    assert steps["nothing"] == [False, []]
    moved, violations, restored = steps["replaced"]
    assert moved and restored and violations == [
        "torch.optim.Optimizer.zero_grad (replaced for everyone): the grader's own code would run it after yours"]
    assert steps["replaced and put back"] == [True, []]  # the count moved; every name is as sealed
    moved, violations, still_there = steps["added"]
    assert moved and not still_there and violations == [
        "torch.nn.Parameter.extra (added for everyone): the grader's own code would run it after yours"]
    assert steps["nothing again"] == [False, []]  # the counts noted after the last look
    assert "may not read raw memory" in steps["string_at"][0]

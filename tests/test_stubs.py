"""The learner stubs as shipped: each imports, teaches, and gives nothing away.

Every exercise in `exercises/info.yaml` has a stub that imports cleanly, whose every listed
function raises NotImplementedError("exNN: <name> is not written yet") and whose body is
nothing but that raise (after its docstring), with a TODO for the learner; its signatures
are the reference solution's. The metadata is checked too: hints, quiz ids, and forbidden
names that exist in torch.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
import types
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
INFO = yaml.safe_load((ROOT / "exercises" / "info.yaml").read_text(encoding="utf-8"))
EXERCISES = {entry["id"]: entry for entry in INFO["exercises"]}
QUIZZES = {path.stem for path in (ROOT / "quizzes").glob("*.yaml")}  # the shipped quizzes, by id


def load(folder: str, file: str) -> types.ModuleType:
    """Import exercises/<file> or solutions/<file> by path, with the folder on sys.path
    (ex05's solution imports ex03's as a sibling), dropping the siblings afterwards."""
    directory = ROOT / folder
    name = f"_{folder}_{file.removesuffix('.py')}"
    before = set(sys.modules)
    sys.path.insert(0, str(directory))
    try:
        spec = importlib.util.spec_from_file_location(name, directory / file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(directory))
        for added in set(sys.modules) - before:
            if Path(getattr(sys.modules[added], "__file__", None) or "").parent == directory:
                del sys.modules[added]
    return module


def sample_arguments(function) -> list[object]:
    """Plausible values for a stub's required parameters, by name (a stub raises before it
    looks at them)."""
    model = nn.Linear(3, 3)
    values = {
        "input": torch.zeros(2, 3), "target": torch.zeros(2, 3), "logits": torch.zeros(2, 3),
        "labels": torch.tensor([0, 1]), "num_classes": 3, "model": model,
        "loss_fn": F.mse_loss, "optimizer": torch.optim.SGD(model.parameters(), lr=0.1),
        "x": torch.zeros(2, 3), "y": torch.zeros(2, 3),
        "a": torch.ones(2, 3), "b": torch.ones(2, 3), "x1": torch.zeros(2), "x2": torch.zeros(2),
        "anchor": torch.zeros(2, 3), "positive": torch.zeros(2, 3), "negative": torch.zeros(2, 3),
        "var": torch.ones(2, 3),
        "micro_batches": [(torch.zeros(2, 3), torch.zeros(2, 3))], "scaler": torch.amp.GradScaler("cpu"),
    }
    values.update({"student_logits": torch.zeros(2, 3), "teacher_logits": torch.zeros(2, 3), "temperature": 2.0,
                   "targets": torch.zeros(2, 4, dtype=torch.long), "tokens": torch.zeros(2, 4, dtype=torch.long),
                   "pad": 0})  # ex10, ex11
    required = [p.name for p in inspect.signature(function).parameters.values()
                if p.default is inspect.Parameter.empty]
    return [values[name] for name in required]


def is_autograd_function(obj: object) -> bool:
    return inspect.isclass(obj) and issubclass(obj, torch.autograd.Function)


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_stub_function_raises_not_implemented(exercise_id):
    entry = EXERCISES[exercise_id]
    stub = load("exercises", entry["file"])
    for name in entry["functions"]:
        obj = getattr(stub, name)
        message = rf"^{exercise_id}: {name}\b.*not written yet"
        with pytest.raises(NotImplementedError, match=message):
            if is_autograd_function(obj):
                obj.apply(torch.zeros(2, 3, requires_grad=True), torch.tensor([0, 1]))
            else:
                obj(*sample_arguments(obj))


def function_bodies(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_stubs_teach_and_give_nothing_away(exercise_id):
    entry = EXERCISES[exercise_id]
    source = (ROOT / "exercises" / entry["file"]).read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree) or ""
    assert f"lossgrade check {exercise_id}" in docstring
    assert len(docstring.splitlines()) >= 10, "the module docstring teaches the task"
    bodies = list(function_bodies(tree))
    assert bodies
    for node in bodies:
        assert ast.get_docstring(node), f"{node.name} has no docstring"
        statements = node.body[1:]  # after the docstring: only the raise
        assert len(statements) == 1 and isinstance(statements[0], ast.Raise), node.name
        assert "# TODO" in ast.get_source_segment(source, node), f"{node.name} has no TODO"


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_stub_and_solution_have_the_same_signatures(exercise_id):
    entry = EXERCISES[exercise_id]
    stub, solution = load("exercises", entry["file"]), load("solutions", entry["file"])
    for name in entry["functions"]:
        mine, theirs = getattr(stub, name), getattr(solution, name)
        if is_autograd_function(mine):
            assert is_autograd_function(theirs)
            for method in ("forward", "backward"):
                signature = inspect.signature(getattr(mine, method))
                assert signature == inspect.signature(getattr(theirs, method)), method
        else:
            assert inspect.signature(mine) == inspect.signature(theirs), name


def resolve(dotted: str) -> object:
    parts = dotted.split(".")
    obj: object = importlib.import_module(parts[0])
    for part in parts[1:]:
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_metadata_is_complete(exercise_id):
    entry = EXERCISES[exercise_id]
    assert entry["file"] == f"{exercise_id}_{entry['name']}.py"
    assert (ROOT / "solutions" / entry["file"]).is_file()
    assert entry["quiz"] in QUIZZES
    assert 2 <= len(entry["hints"]) <= 3
    assert entry["points"] > 0
    for dotted in entry.get("forbidden") or []:
        assert callable(resolve(dotted)), f"{dotted} names nothing callable"
    for module in entry.get("allowed_imports") or []:
        assert any(e["file"] == f"{module}.py" for e in INFO["exercises"]), module


def test_a_guards_wrapper_is_looked_through_when_telling_a_stub_from_torchs_error():
    """A forbidden function's guard passes the call on (sandbox/_guards.py), so torch's own
    NotImplementedError raised below it comes out of a frame of the sandbox's: the learner's
    line above it, which raises nothing, decides (not the wrapper's, whose source a worker
    may not even be able to read)."""
    import os
    import traceback

    from lossgrade.sandbox.inprocess import _RESULTS as worker

    learner = traceback.FrameSummary("/tmp/work/m.py", 3, "f", line="return torch.log_softmax(x.long(), -1)")
    wrapper = traceback.FrameSummary(os.path.join(worker.HERE, "_guards.py"), 168, "guarded", line="")
    stub = traceback.FrameSummary("/tmp/work/m.py", 3, "f", line="raise NotImplementedError")
    error = NotImplementedError("not implemented for 'Long'")
    assert not worker.raised_by_a_raise(error, traceback.StackSummary.from_list([learner, wrapper]))
    assert worker.raised_by_a_raise(error, traceback.StackSummary.from_list([stub]))
    assert worker.raised_by_a_raise(error, traceback.StackSummary.from_list([stub, wrapper]))

"""One worker for a learner's exercises, in turn (`learner.one_learner`, `Worker.reset`): each
exercise still refuses its own forbidden calls and only those, finds nothing the last one
left (modules, files, violations, printed output, torch's and Python's settings), and a
worker that left a thread behind, or that belongs to another learner, is never handed on."""
from __future__ import annotations

import pytest
import torch
from lossgrade import course
from lossgrade.course import catalog
from lossgrade.grading import submission as grading
from lossgrade.grading.discover import Submission
from lossgrade.grading.grader import Grader
from lossgrade.sandbox.learner import LearnerModule, call_request, one_learner

SOFTMAX = ("torch.softmax",)
CALLS_SOFTMAX = """
import torch

def f(x):
    return torch.ops.aten._softmax(x, 0, False)  # the operator itself, below the Python wrappers
"""
MESSY = """
import os, random, sys, torch
torch.set_default_dtype(torch.float64)
sys.path.insert(0, "/usr")
try:
    os.environ["LEFT"] = "yes"  # refused while learner code runs; were it not, the reset would undo it
except PermissionError:
    pass
os.makedirs("made/deep", exist_ok=True)
with open("made/deep/note.txt", "w") as note:
    note.write("from the last exercise")
random.seed(1)
torch.manual_seed(1)
torch.nn.functional.mse_loss  # a name only
try:
    torch.nn.functional.mse_loss(torch.ones(1), torch.ones(1))  # forbidden here: a violation
except RuntimeError:
    pass

def f(x):
    print("printed by the last exercise")
    return x
"""
LOOKS = """
import os, random, sys, torch

def f(x):
    try:
        import messy  # the last exercise's module: gone with its file
        found = "messy importable"
    except ImportError:
        found = ""
    return torch.tensor([
        float(torch.get_default_dtype() == torch.float32),
        float("/usr" not in sys.path[:1]),
        float("LEFT" not in os.environ),
        float(not os.path.exists("made")),
        float(found == ""),
        float(torch.rand(1, dtype=torch.float64).item()),
        float(random.random()),
    ])
"""
THREAD = """
import threading, time
threading.Thread(target=time.sleep, args=(30,), daemon=True).start()

def f(x):
    return x
"""


def module(sandbox, name: str, source: str, forbid: tuple[str, ...] = ()) -> LearnerModule:
    return LearnerModule(sandbox, name, {f"{name}.py": source}, ("f",), forbid)


def run(learner: LearnerModule):
    try:
        reply = learner.call("f", torch.ones(3))
        return reply, learner._worker.pid if learner._worker else None
    finally:
        learner.close()


def test_each_exercise_refuses_its_own_forbidden_operators_and_only_those(sandbox):
    with one_learner(sandbox):
        refused, first = run(module(sandbox, "a", CALLS_SOFTMAX, SOFTMAX))
        allowed, second = run(module(sandbox, "b", CALLS_SOFTMAX))
        again, third = run(module(sandbox, "c", CALLS_SOFTMAX, SOFTMAX))
    assert first == second == third  # one worker served all three
    assert refused.kind == "raised" and any("softmax" in v for v in refused.violations)
    assert allowed.kind == "tensor" and not allowed.violations  # the last exercise's refusal is gone...
    assert torch.allclose(allowed.value, torch.full((3,), 1 / 3))
    assert again.kind == "raised" and any("softmax" in v for v in again.violations)  # ...and back where it belongs


def test_the_next_exercise_finds_nothing_the_last_one_left(sandbox):
    fresh, _ = run(module(sandbox, "looks", LOOKS))
    with one_learner(sandbox):
        messy, first = run(module(sandbox, "messy", MESSY, ("torch.nn.functional.mse_loss",)))
        looks = module(sandbox, "looks", LOOKS)
        after, second = run(looks)
    assert first == second
    assert messy.violations and "printed by the last exercise" in messy.output
    assert after.kind == "tensor", after.message
    assert not after.violations and not after.output
    assert after.value[:5].tolist() == [1.0] * 5
    assert after.value[5].item() == fresh.value[5].item()  # torch's generator as a fresh worker's
    assert after.value[6].item() != 0.13436424411240122  # Python's as the worker began (not as seed(1) left it)


def test_a_worker_that_left_a_thread_is_not_handed_on(sandbox):
    with one_learner(sandbox):
        threaded, first = run(module(sandbox, "threaded", THREAD))
        after, second = run(module(sandbox, "after", CALLS_SOFTMAX))
    assert threaded.kind == after.kind == "tensor"
    assert first != second


def test_never_across_learners_nor_outside_a_learner(sandbox):
    pids = []
    for _ in range(2):
        with one_learner(sandbox):
            pids.append(run(module(sandbox, "a", CALLS_SOFTMAX))[1])
    pids += [run(module(sandbox, "a", CALLS_SOFTMAX))[1] for _ in range(2)]
    assert len(set(pids)) == 4


def test_a_submission_graded_in_one_worker_gets_the_grades_of_one_worker_per_exercise(sandbox):
    """ex03 forbids softmax, which ex04's reference-like code may use; ex01 breaks the rules:
    each exercise's grade is what it gets alone."""
    files = {
        "ex01_mse.py": "import torch\ndef mse_loss(input, target, reduction='mean'):\n"
                       "    return torch.nn.functional.mse_loss(input, target, reduction=reduction)\n",
        "ex03_cross_entropy.py": catalog.resolve("ex03").solution_path.read_text(),
        "ex04_bce.py": catalog.resolve("ex04").solution_path.read_text(),
    }
    exercises = [catalog.resolve(e) for e in ("ex01", "ex03", "ex04")]
    submission = Submission(learner="someone", source="someone", files={k: v.encode() for k, v in files.items()})
    together = grading.grade(sandbox, submission, exercises)
    alone = [Grader(course.current(), sandbox).grade(e, grading.sources(submission, e)) for e in exercises]
    assert [(r.score, r.status) for r in together.exercises] == [(r.score, r.status) for r in alone]
    assert [r.status.value for r in alone] == ["failed", "passed", "passed"]


def test_a_batch_of_calls_still_works_in_a_worker_handed_on(sandbox):
    with one_learner(sandbox):
        run(module(sandbox, "a", CALLS_SOFTMAX, SOFTMAX))
        learner = module(sandbox, "b", CALLS_SOFTMAX)
        try:
            replies = learner.call_many([call_request("f", (torch.ones(2),), {}) for _ in range(3)])
        finally:
            learner.close()
    assert [r.kind for r in replies] == ["tensor"] * 3


HOOKED = """
import sys, torch

def __getattr__(name):  # what `getattr(module, "__file__")` would run, outside the guards
    torch._lossgrade_reset_ran_learner_code = True
    raise AttributeError(name)

class Lurker:
    @property
    def __file__(self):
        torch._lossgrade_reset_ran_learner_code = True
        return "/nowhere.py"

sys.modules["lurker"] = Lurker()
del globals()["__file__"]

def f(x):
    return x
"""
FINDS_HOOK = """
import torch

def f(x):
    left = []
    for name in ("hooked", "lurker"):
        try:
            __import__(name)
            left.append(name)
        except ImportError:
            pass
    return torch.tensor([float(hasattr(torch, "_lossgrade_reset_ran_learner_code")), float(len(left))])
"""


def test_the_reset_runs_none_of_the_last_exercise_s_code_and_drops_its_modules(sandbox):
    """A module that deleted its own __file__ (so that reading it calls the module's
    __getattr__) and an object in sys.modules whose __file__ is a property: the reset between
    two exercises reads neither through learner code, and neither is importable after."""
    with one_learner(sandbox):
        hooked, first = run(module(sandbox, "hooked", HOOKED))
        found, second = run(module(sandbox, "finds", FINDS_HOOK))
    assert first == second  # the same worker, reset between the two
    assert hooked.kind == "tensor", hooked.message
    assert found.kind == "tensor", found.message
    assert found.value.tolist() == [0.0, 0.0]


def test_the_next_exercise_imports_its_own_files_even_where_names_repeat(sandbox):
    """A module the last exercise imported (a helper of the same name) is imported afresh
    from the next exercise's files: the import system forgets the worker's folder."""
    uses_helper = """
import helper, torch
def f(x):
    return torch.tensor([float(helper.VALUE)])
"""
    with one_learner(sandbox):
        first = LearnerModule(sandbox, "first", {"first.py": uses_helper, "helper.py": "VALUE = 1\n"}, ("f",))
        one, first_pid = run(first)
        second = LearnerModule(sandbox, "second", {"second.py": uses_helper, "helper.py": "VALUE = 2\n"}, ("f",))
        two, second_pid = run(second)
    assert first_pid == second_pid  # the same worker, reset between the two
    assert one.kind == "tensor" and one.value.tolist() == [1.0], one.message
    assert two.kind == "tensor" and two.value.tolist() == [2.0], two.message


TATTLING_STR = """
import sys, torch

class Tattler(str):
    # A str whose hashing and comparing say that they ran.
    def __hash__(self):
        torch._lossgrade_reset_ran_learner_code = True
        return str.__hash__(self)

    def __eq__(self, other):
        torch._lossgrade_reset_ran_learner_code = True
        return str.__eq__(self, other)

"""
FORGET_WHAT_RAN_GUARDED = """
try:
    del torch._lossgrade_reset_ran_learner_code  # what ran here, guarded, does not count
except AttributeError:
    pass

def f(x):
    return x
"""


@pytest.mark.parametrize("use", [
    # a name the import guard records for the reset
    'try:\n    __import__(Tattler("no_such_module_anywhere"))\nexcept ImportError:\n    pass\n',
    # a key of sys.modules, hashed here while the guards are on
    'sys.modules[Tattler("elsewhere")] = sys\n',
], ids=["import-name", "sys-modules-key"])
def test_the_reset_hashes_no_str_subclass_of_the_learners(sandbox, use):
    """The reset reads the names of what was imported, and sys.modules, outside the guards:
    a learner's str subclass's __hash__ or __eq__ must not run there."""
    with one_learner(sandbox):
        tattling, first = run(module(sandbox, "tattling", TATTLING_STR + use + FORGET_WHAT_RAN_GUARDED))
        found, second = run(module(sandbox, "finds", FINDS_HOOK))
    assert first == second
    assert tattling.kind == "tensor", tattling.message
    assert found.kind == "tensor", found.message
    assert found.value.tolist()[0] == 0.0

"""Run-time guards inside a worker: forbidden calls, blocked imports, and the files, programs,
sockets and raw memory that learner code may not reach (it may read only its own folder,
Python's and the system's, and write only its own folder).

They catch honest mistakes and casual cheating: `F.cross_entropy` in a from-scratch
exercise (also when reached through `torch._C`, `torch.ops.aten`, a reloaded module or the
original behind our wrapper), `import solutions`, `open(".../solutions/ex03_...py")`,
`subprocess.run(["cat", ...])`. They cannot stop a learner who sets out to take them apart:
they live in the learner's own process. What holds against that is the process boundary
(see docs/SANDBOX.md): whatever a learner does here changes only their own reply, which the
grader treats as untrusted data.

This file is the guard around each stretch of learner code (`Guards.learner_code`): its
forbidden calls refused, and what it left behind to run later (threads, torch modes, timers,
signal handlers, torch's namespaces changed, garbage) undone. `Guards` is built on `Hooks`
(its sibling `_hooks.py`): the import guard and the audit hook, for the worker's whole life.

Loaded by the zygote, before any learner code runs, and imports nothing from lossgrade.
"""
from __future__ import annotations

import _signal
import _thread
import contextlib
import gc
import operator
import signal
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import torch
from _hooks import Hooks, resolve  # our sibling: whoever loads this file provides it (see _zygote.py)

# The aten operators that forbidden functions bottom out in, so that another route to the
# same computation is caught too. Functions that decompose into elementary operators
# (l1_loss, one_hot) have none; the Python-level wrapper is all there is for them.
_SOFTMAX = ("torch.nn.functional.softmax", "torch.softmax", "torch.Tensor.softmax", "torch.special.softmax", "torch.nn.Softmax",
            "torch.sparse.softmax")
_LOG_SOFTMAX = ("torch.nn.functional.log_softmax", "torch.log_softmax", "torch.Tensor.log_softmax",
                "torch.special.log_softmax", "torch.nn.LogSoftmax", "torch.sparse.log_softmax")
_NLL = ("torch.nn.functional.cross_entropy", "torch.nn.functional.nll_loss", "torch.nn.CrossEntropyLoss", "torch.nn.NLLLoss")
_BCE_LOGITS = ("torch.nn.functional.binary_cross_entropy_with_logits", "torch.binary_cross_entropy_with_logits",
               "torch.nn.BCEWithLogitsLoss")
OPERATORS: dict[str, tuple[str, ...]] = {
    "_softmax": _SOFTMAX,
    "_log_softmax": _LOG_SOFTMAX,
    # the same computations under other names: on sparse tensors, masked, "safe"
    "_sparse_softmax": _SOFTMAX,
    "_sparse_log_softmax": _LOG_SOFTMAX,
    "_masked_softmax": _SOFTMAX,
    "_safe_softmax": _SOFTMAX,
    "logsumexp": ("torch.logsumexp", "torch.Tensor.logsumexp", "torch.special.logsumexp"),
    "nll_loss_forward": _NLL,
    "nll_loss2d_forward": _NLL,
    "mse_loss": ("torch.nn.functional.mse_loss", "torch.nn.MSELoss"),
    "huber_loss": ("torch.nn.functional.huber_loss", "torch.nn.HuberLoss"),
    "smooth_l1_loss": ("torch.nn.functional.smooth_l1_loss", "torch.nn.SmoothL1Loss"),
    "binary_cross_entropy": ("torch.nn.functional.binary_cross_entropy", "torch.nn.BCELoss"),
    "binary_cross_entropy_with_logits": _BCE_LOGITS,
    "log_sigmoid_forward": ("torch.nn.functional.logsigmoid",),
    "softplus": ("torch.nn.functional.softplus",),
    "kl_div": ("torch.nn.functional.kl_div", "torch.kl_div", "torch.nn.KLDivLoss"),
}

# The backends whose own kernel of a forbidden operator is replaced too, where it has one.
_BACKENDS = ("MkldnnCPU", "NestedTensorCPU", "NestedTensorCUDA", "SparseCPU", "SparseCUDA", "SparseCsrCPU",
             "SparseCsrCUDA", "QuantizedCPU", "QuantizedCUDA", "MPS", "XPU")

# An exercise that forbids this forbids asking autograd in any form (ex06: gradients by hand).
AUTOGRAD = "torch.autograd.grad"

# What learner code may leave behind that would run it again outside its stretch, where no
# guard is on (the worker's own code decoding, describing and encoding): the signals whose
# handler it could set, its interval timers; and the torch namespaces whose replacement
# would run in the worker's own code (see Guards._after_learner_code).
_SIGNALS = tuple(s for s in (getattr(signal, n, None) for n in (
    "SIGALRM", "SIGVTALRM", "SIGPROF", "SIGUSR1", "SIGUSR2", "SIGHUP", "SIGINT", "SIGTERM", "SIGCHLD", "SIGIO",
    "SIGPIPE", "SIGWINCH", "SIGURG", "SIGCONT", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGXCPU", "SIGXFSZ", "SIGPWR",
    "SIGSYS", "SIGTRAP")) if s is not None)
_TIMERS = (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF)
# The classes whose methods the worker's own code (and these guards) call between stretches
# on objects of theirs: a method replaced or added there would run unguarded. (Module-level
# functions it calls were taken at import: see _worker.py and _wire.py.)
_TORCH_NAMESPACES = ("torch.Tensor", "torch.nn.Module", "torch.nn.Parameter", "torch.autograd.Function",
                     "torch.optim.Optimizer", "torch.autograd.grad_mode.inference_mode")
# Taken before any learner code: what the guards themselves call.
_INFERENCE = torch._C._InferenceMode
_INFERENCE_ENTER, _INFERENCE_EXIT = _INFERENCE.__enter__, _INFERENCE.__exit__
_FUNCTION_MODES, _DISPATCH_MODES = torch._C._len_torch_function_stack, torch._C._len_torch_dispatch_stack
_POP_FUNCTION_MODE, _POP_DISPATCH_MODE = torch._C._pop_torch_function_stack, torch._C._pop_torch_dispatch_stack
_PUSH_FUNCTION_MODE = torch._C._push_on_torch_function_stack


class Guards(Hooks):
    """Every guard of one worker process; the zygote builds one and forks it into each worker.

    Forbidden torch functions are wrapped once, in the zygote. A wrapper objects only while
    learner code of an exercise that forbids it runs (`active`), so torch's own internals
    and our drivers are unaffected; a forbidden call records its name and raises instead of
    computing anything, so catching the exception gains nothing. `violations` accumulates
    over the worker's life: an attempt at import time taints every later reply.
    """

    def __init__(self) -> None:
        super().__init__()
        self.active: frozenset[str] = frozenset()
        self.wrappers: dict[str, tuple[Any, str, Any]] = {}  # dotted -> (owner, attribute, wrapper)
        self._refused_sets: set[frozenset[str]] = set()
        self._library: Any = None  # the torch.library registrations of refused operators
        self._autograd_refused = False  # the routes back to autograd are refused (see _refuse_autograd)
        self._record = self.violations  # the list the worker reports: it must stay this one
        # torch's namespaces as sealed: (dotted, owner, names, values, a class?)
        self._frozen: list[tuple[str, Any, tuple[str, ...], tuple[Any, ...], bool]] = []
        self._counts: list[Any] = []  # a view of each namespace's dict's change count (see _change_counter)
        self._seen: list[int] = []  # ...and the count when it was last seen as sealed
        self._handlers: dict[int, Any] = {}  # the signal handlers as sealed

    # --- forbidden functions ----------------------------------------------------------------
    def wrap(self, dotted: str) -> None:
        if dotted in self.wrappers:
            return
        owner_path, _, attr = dotted.rpartition(".")
        owner: Any = resolve(owner_path)
        if owner is None or not hasattr(owner, attr):
            return
        original = getattr(owner, attr)
        if isinstance(original, type):  # a module class such as nn.CrossEntropyLoss
            owner, attr, original = original, "forward", getattr(original, "forward")  # noqa: B009 - typed as `type`
        guards = self

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if dotted in guards.active:
                guards.refuse(dotted)
            return original(*args, **kwargs)

        guarded.__name__ = getattr(original, "__name__", attr)
        guarded.__doc__ = getattr(original, "__doc__", None)
        setattr(owner, attr, guarded)
        self.wrappers[dotted] = (owner, attr, guarded)

    def refuse(self, what: str) -> None:
        self.violations.append(what)
        raise RuntimeError(f"lossgrade: calling {what} is not allowed in this exercise")

    @contextlib.contextmanager
    def learner_code(self, forbid: list[str] | tuple[str, ...], graph: bool = False) -> Iterator[None]:
        """Around each stretch of learner code: its exercise's forbidden calls are refused,
        at the Python level and at the level of torch's operators, and afterwards we check
        that the learner left our guards in place. `graph`: the request asks for gradients
        of the result, so autograd records even where the exercise forbids asking it."""
        self.active = frozenset(forbid)
        self._refuse_operators(self.active)
        no_autograd = AUTOGRAD in self.active and not graph
        if no_autograd:
            self._refuse_autograd()
        self._learning = True
        threads = _thread._count()
        modes = (_FUNCTION_MODES(), _DISPATCH_MODES())
        gc.enable()  # a learner's cycles (and their __del__) are collected while its code runs, never after
        # An exercise that forbids asking autograd runs its learner code with autograd off: no
        # graph is recorded, so a Parameter's grad_fn called by hand, a tensor made with
        # requires_grad=True or forward-mode dual numbers compute nothing. Through torch's C
        # context, taken at import: the Python class's __enter__ is the learner's to replace.
        inference = _INFERENCE(True) if no_autograd else None
        try:
            if inference is not None:
                _INFERENCE_ENTER(inference)
            try:
                yield
            finally:
                if inference is not None:
                    _INFERENCE_EXIT(inference, None, None, None)
        finally:
            try:
                self._after_learner_code(threads, modes)
            finally:
                self._learning = False
                self.active = frozenset()
                self._check_intact(forbid)

    def _after_learner_code(self, threads: int, modes: tuple[int, int]) -> None:
        """What learner code left that would run it again outside its stretch, unguarded: each
        is undone and recorded as tampering (the grader fails the exercise for it).
        Garbage: collected here, while the guards are on, and not after (`gc.disable`); what
        is still alive then is frozen (`gc.freeze`), so each collection looks only at what
        the last stretch made (a full one over the worker's objects was ~11% of its CPU). A
        cycle that later becomes garbage with a frozen object in it is kept, never finalized:
        memory (bounded by the worker's limit), never a learner's __del__ run unguarded.
        Threads still running; torch function or dispatch modes left on (they would see every
        tensor the worker's own code touches); signal handlers and interval timers; torch's
        functions and classes replaced (`T = type(x); T.to = ...`), put back as they were."""
        gc.collect()
        gc.freeze()
        gc.disable()
        if self._frozen and _thread._count() > threads:
            self._tampered(f"a thread of its own, still running after its code returned ({_thread._count() - threads})")
        kept = []  # torch's own (torch.set_default_device is one), put back in their order
        while _FUNCTION_MODES() > modes[0]:
            mode = _POP_FUNCTION_MODE()
            if str(type(mode).__module__).startswith("torch."):
                kept.append(mode)
            else:
                self._tampered("a torch function mode left on")
        for mode in reversed(kept):
            _PUSH_FUNCTION_MODE(mode)
        while _DISPATCH_MODES() > modes[1]:
            _POP_DISPATCH_MODE()
            self._tampered("a torch dispatch mode left on")
        for timer in _TIMERS if self._handlers else ():  # stopped before their handlers go back
            if signal.getitimer(timer) != (0.0, 0.0):
                signal.setitimer(timer, 0)
                self._tampered("an interval timer (signal.setitimer)")
        if not all(map(operator.is_, self._handlers.values(), map(_signal.getsignal, self._handlers))):
            for number, handler in self._handlers.items():
                if _signal.getsignal(number) is not handler:
                    signal.signal(number, handler)
                    self._tampered(f"a handler for signal {signal.Signals(number).name}")
        for index, (dotted, owner, names, values, is_class) in enumerate(self._frozen):
            if self._counts and self._counts[index].value == self._seen[index]:
                continue  # its dict unchanged since it was last seen as sealed: ~0.2 us, not ~3
            now = owner.__dict__  # compared by identity, in C
            # The very same keys and values in the same order (~6 us for all of them), else by
            # name (~12 us): a name deleted and set again is another key object, looked at by name.
            if len(now) == len(names) and all(map(operator.is_, names, now)) and all(
                    map(operator.is_, values, now.values())) or (
                    (len(now) == len(names) or not is_class) and all(map(operator.is_, values, map(now.get, names)))):
                continue
            for name, value in zip(names, values, strict=True):
                if name not in now or now[name] is not value:
                    setattr(owner, name, value)
                    self._tampered(f"{dotted}.{name} (replaced for everyone)")
            for name in [n for n in now if n not in names] if is_class else ():
                delattr(owner, name)
                self._tampered(f"{dotted}.{name} (added for everyone)")
        self._note_changes()

    def _note_changes(self) -> None:
        """Each sealed namespace's dict's change count now (see `_change_counter`): called
        while the namespaces are as sealed."""
        self._seen = [count.value for count in self._counts]

    def _tampered(self, what: str) -> None:
        self.violations.append(f"{what}: the grader's own code would run it after yours")

    def _refuse_operators(self, forbid: frozenset[str]) -> None:
        """Replace the CPU and CUDA kernels of the aten operators that `forbid` stands for
        with one that refuses, so that every route to the computation (torch.ops.aten,
        torch._C, a module reloaded from disk, inference mode) ends there, while every other
        operator runs at full speed. Once per exercise: nothing of ours that runs in a worker
        needs a forbidden operator. A worker that goes on to the same learner's next exercise
        (see `Worker.reset`) drops the last exercise's refusals first: each exercise refuses
        its own operators, and only those."""
        if forbid in self._refused_sets:
            return
        if self._refused_sets:  # the same learner's next exercise, in the same worker
            library, self._library = self._library, None
            self._refused_sets.clear()
            if library is not None:
                library._destroy()  # the operators' own kernels are back
        self._refused_sets.add(forbid)
        if self._library is None:
            self._library = torch.library.Library("aten", "IMPL")
        with warnings.catch_warnings():  # "overriding a previously registered kernel": meant
            warnings.simplefilter("ignore")
            for op, names in OPERATORS.items():
                name = next((n for n in names if n in forbid), None)
                packet = getattr(torch.ops.aten, op, None)
                if name is None or packet is None:
                    continue
                kernel = self._refusing_kernel(f"{name} (reached through the operator aten.{op})")
                for overload in packet.overloads():
                    qualified = op if overload == "default" else f"{op}.{overload}"
                    # Every backend's kernel, not only the dense ones: `_softmax` also runs on
                    # mkldnn and nested tensors, each through a kernel of its own.
                    others = [key for key in _BACKENDS
                              if torch._C._dispatch_has_kernel_for_dispatch_key(f"aten::{qualified}", key)]
                    for key in dict.fromkeys(("CPU", "CUDA", *others)):
                        self._library.impl(qualified, kernel, key)

    def _refuse_autograd(self) -> None:
        """Where autograd is forbidden, the ways back to it from inference mode: torch.func's
        transforms (which open autograd levels of their own), leaving inference mode, and
        threads (inference mode is per thread). Each refuses only while learner code of such
        an exercise runs. Once for the worker's life."""
        if self._autograd_refused:
            return
        self._autograd_refused = True
        guards = self
        eager = sys.modules.get("torch._functorch.eager_transforms")
        for module in (eager, sys.modules.get("torch._functorch.predispatch"), torch._C._functorch):
            for name in ("_grad_increment_nesting", "_jvp_increment_nesting"):
                if module is not None and hasattr(module, name):
                    setattr(module, name, self._unless_autograd(getattr(module, name), f"{AUTOGRAD} (through torch.func)"))
        for module, name in ((sys.modules.get("threading"), "_start_new_thread"), (sys.modules.get("_thread"), "start_new_thread"),
                             (sys.modules.get("_thread"), "start_joinable_thread"),
                             (sys.modules.get("threading"), "_start_joinable_thread")):
            if module is not None and hasattr(module, name):
                setattr(module, name, self._unless_autograd(getattr(module, name), f"{AUTOGRAD} (from a thread of its own)"))
        mode = torch.autograd.grad_mode.inference_mode
        enter = mode.__enter__

        def entered(self_: Any) -> Any:
            if not getattr(self_, "mode", True) and AUTOGRAD in guards.active:
                guards.refuse(f"{AUTOGRAD} (by leaving inference mode)")
            return enter(self_)

        mode.__enter__ = entered  # type: ignore[method-assign]
        self._frozen = [(dotted, owner, *_names_and_values(owner), is_class) if owner is mode
                        else (dotted, owner, names, values, is_class)
                        for dotted, owner, names, values, is_class in self._frozen]  # ours, not the learner's
        self._note_changes()

    def _unless_autograd(self, original: Any, what: str) -> Any:
        def refusing(*args: Any, **kwargs: Any) -> Any:
            if AUTOGRAD in self.active:
                self.refuse(what)
            return original(*args, **kwargs)

        return refusing

    def _refusing_kernel(self, what: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            self.refuse(what)

        return refused

    def _check_intact(self, forbid: list[str] | tuple[str, ...]) -> None:
        for dotted in forbid:
            owner, attr, wrapper = self.wrappers.get(dotted, (None, "", None))
            if owner is not None and getattr(owner, attr, None) is not wrapper:
                self.violations.append(f"{dotted} (the grader's guard on it was replaced)")
        if self not in sys.meta_path:
            self.violations.append("import (the grader's import guard was removed)")
        if self._library is not None and getattr(self._library, "m", None) is None:
            self.violations.append("torch.library (the grader's refusal of forbidden operators was destroyed)")
        if self.violations is not self._record:  # replaced: what the worker reports would stay empty
            self._record.append("the grader's record of violations (it was replaced)")
            self._record.extend(v for v in self.violations if v not in self._record)

    def seal(self, workdir: str) -> None:
        """Put the import and audit guards in place, for the rest of this process's life
        (the last step of the jail, before any learner code)."""
        self._confine(workdir)
        self._handlers = {number: _signal.getsignal(number) for number in _SIGNALS}
        for dotted in _TORCH_NAMESPACES:
            owner = resolve(dotted)
            if owner is not None:
                self._frozen.append((dotted, owner, *_names_and_values(owner), isinstance(owner, type)))
        # Views of their dicts' change counts, made here: the audit hook refuses raw memory reads.
        dicts = [gc.get_referents(owner.__dict__)[0] if is_class else owner.__dict__
                 for _, owner, _, _, is_class in self._frozen]
        if _COUNT_VIEW is not None and all(type(d) is dict for d in dicts):
            self._counts = [_COUNT_VIEW(d) for d in dicts]
        self._note_changes()
        # What exists now is never garbage, and is never looked at again; from here on the
        # collector runs only inside learner code (see learner_code).
        gc.freeze()
        gc.disable()
        self._install()


def _names_and_values(owner: Any) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    before = dict(owner.__dict__)
    return tuple(before), tuple(before.values())


def _change_counter() -> Any:
    """A maker of views of CPython's count of a dict's changes (PEP 509's version tag, the
    field after its header and its length), which every insertion, replacement and deletion
    moves on, whichever dict it is in: a namespace whose dict shows the count it had is
    unchanged, seen in ~0.2 us instead of comparing its every name (~10 us a stretch for
    torch's six). None where this Python keeps no such count there (another implementation,
    another layout): a self-test of each change the guards look for decides, and without it
    every name is compared, as before."""
    if sys.implementation.name != "cpython":
        return None
    import ctypes

    offset = object.__basicsize__ + ctypes.sizeof(ctypes.c_ssize_t)  # after the header and ma_used

    def view(mapping: dict[Any, Any]) -> Any:
        return ctypes.c_uint64.from_address(id(mapping) + offset)

    probe: dict[str, Any] = {"a": 1}
    other: dict[str, Any] = {}
    count = view(probe)
    steps = (lambda: None, lambda: probe.__setitem__("a", 2), lambda: probe.__setitem__("b", 3),
             lambda: probe.__delitem__("b"), lambda: other.__setitem__("c", 4))
    counts = [count.value]
    for step in steps:
        step()
        counts.append(count.value)
    moved = [after != before for before, after in zip(counts, counts[1:])]
    return view if moved == [False, True, True, True, False] else None


_COUNT_VIEW = _change_counter()

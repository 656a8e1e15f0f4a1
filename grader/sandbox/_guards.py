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

Loaded by the zygote, before any learner code runs, and imports nothing from lossgrade.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import torch

# Names a learner may not import: the grader, the reference solutions, this sandbox.
BLOCKED_IMPORTS = ("lossgrade", "grader", "solutions", "_guards", "_worker", "_wire", "_zygote", "_drivers")
# Modules whose fresh copy would bring back what the jail took out of them.
REFUSED_IMPORTS = ("_posixsubprocess",)
# torch functions that open a file in C, out of the audit hook's sight; the jail replaces
# them. (`torch._C.StorageBase.from_file` cannot be replaced: see docs/SANDBOX.md.)
FILE_READERS = ("torch.from_file", "torch.UntypedStorage.from_file")

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
}

# The backends whose own kernel of a forbidden operator is replaced too, where it has one.
_BACKENDS = ("MkldnnCPU", "NestedTensorCPU", "NestedTensorCUDA", "SparseCPU", "SparseCUDA", "SparseCsrCPU",
             "SparseCsrCUDA", "QuantizedCPU", "QuantizedCUDA", "MPS", "XPU")

# An exercise that forbids this forbids asking autograd in any form (ex06: gradients by hand).
AUTOGRAD = "torch.autograd.grad"

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Files Python would import as code: learner code may not write them, so that all the code
# that runs is code the grader's source scan read (lossgrade/sandbox/scan.py).
_CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".pyw", ".pth", ".so", ".pyd", ".zip", ".egg", ".whl")
# Audit events that change the file system, with the positions of their path arguments.
_PATH_EVENTS = {
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.link": (0, 1),
    "os.symlink": (1,), "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,),
}
# Running programs, opening sockets and reaching raw memory or C functions: no loss
# function needs them, and each would step around the checks on files above.
# (`_posixsubprocess.fork_exec` raises no audit event; the jail replaces it.)
_REFUSED_EVENTS = {
    "os.exec": "run a program", "os.posix_spawn": "run a program", "os.spawn": "run a program",
    "os.system": "run a program", "subprocess.Popen": "run a program",
    "socket.__new__": "open a socket", "socket.connect": "open a socket", "socket.bind": "open a socket",
    "ctypes.dlopen": "call C functions through ctypes", "ctypes.dlsym": "call C functions through ctypes",
    "ctypes.dlsym/handle": "call C functions through ctypes", "ctypes.cdata": "read raw memory through ctypes",
    "sqlite3.connect": "open a database file",
}


class Guards:
    """Every guard of one worker process; the zygote builds one and forks it into each worker.

    Forbidden torch functions are wrapped once, in the zygote. A wrapper objects only while
    learner code of an exercise that forbids it runs (`active`), so torch's own internals
    and our drivers are unaffected; a forbidden call records its name and raises instead of
    computing anything, so catching the exception gains nothing. `violations` accumulates
    over the worker's life: an attempt at import time taints every later reply.
    """

    def __init__(self) -> None:
        self.active: frozenset[str] = frozenset()
        self.violations: list[str] = []
        self.wrappers: dict[str, tuple[Any, str, Any]] = {}  # dotted -> (owner, attribute, wrapper)
        self.hidden: frozenset[str] = frozenset()  # digests of the real paths learner code may not open (see `hide`)
        self.readable: tuple[str, ...] = ()  # the only real paths it may read (with its folder)
        self.workdir = ""
        self._refused_sets: set[frozenset[str]] = set()
        self._library: Any = None  # the torch.library registrations of refused operators
        self._autograd_refused = False  # the routes back to autograd are refused (see _refuse_autograd)
        self._record = self.violations  # the list the worker reports: it must stay this one
        self._learning = False  # learner code is running (the worker writes the learner's files outside it)

    # --- forbidden functions ----------------------------------------------------------------
    def wrap(self, dotted: str) -> None:
        if dotted in self.wrappers:
            return
        owner_path, _, attr = dotted.rpartition(".")
        owner: Any = _resolve(owner_path)
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

    def hide(self, paths: list[str]) -> None:
        """Refuse and record opening `paths`, knowing them only by their digests: a worker
        is not told where the solutions, the class and the results are."""
        self.hidden = frozenset(_digest(os.path.realpath(p)) for p in paths)

    def _is_hidden(self, real: str) -> bool:
        parts = real.split(os.sep)
        return bool(self.hidden) and any(_digest(os.sep.join(parts[:n]) or os.sep) in self.hidden
                                         for n in range(1, len(parts) + 1))

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
        try:
            # An exercise that forbids asking autograd runs its learner code with autograd
            # off: no graph is recorded, so a Parameter's grad_fn called by hand, a tensor
            # made with requires_grad=True or forward-mode dual numbers compute nothing.
            with torch.inference_mode() if no_autograd else contextlib.nullcontext():
                yield
        finally:
            self._learning = False
            self.active = frozenset()
            self._check_intact(forbid)

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
        import _posixsubprocess

        _posixsubprocess.fork_exec = _refusing("run a program (_posixsubprocess)")
        for dotted in FILE_READERS:
            owner_path, _, attr = dotted.rpartition(".")
            setattr(_resolve(owner_path), attr, _refusing(f"read files through {dotted}"))
        self.workdir = os.path.realpath(workdir)
        self.readable = (self.workdir, *self.readable)
        sys.meta_path.insert(0, self)  # type: ignore[arg-type]
        sys.addaudithook(self.audit)

    # --- imports: a meta-path finder --------------------------------------------------------
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        top = name.split(".")[0]
        if top in BLOCKED_IMPORTS:
            self.violations.append(f"import {name}")
            raise ImportError(f"lossgrade: learner code may not import {name}")
        if top in REFUSED_IMPORTS:
            raise ImportError(f"lossgrade: learner code may not import {name} again")

    # --- files, programs, sockets: an audit hook, for the worker's whole life ----------------
    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        """Installed by the jail (`sys.addaudithook`; it cannot be removed again)."""
        if event == "open":
            self._check_open(args[0], args[2])
        elif event in _PATH_EVENTS:
            for index in _PATH_EVENTS[event]:
                self._check_write(args[index])
        elif event in _REFUSED_EVENTS:
            raise PermissionError(f"lossgrade: learner code may not {_REFUSED_EVENTS[event]} ({event})")
        elif event == "os.kill" and args[0] not in (0, os.getpid()):
            raise PermissionError("lossgrade: learner code may signal only its own process")
        elif event == "os.killpg" and args[0] != os.getpgrp():
            raise PermissionError("lossgrade: learner code may signal only its own process group")
        elif event == "exec" and self._learning and not _may_run_text(sys._getframe(1).f_code.co_filename):
            # Code that a library builds from text (a jinja2 template, sympy's sympify, an
            # eval in the standard library) is code the source scan never read.
            raise PermissionError("lossgrade: learner code may not run code built from text (exec)")
        elif event == "pickle.find_class" and self._learning:
            # Unpickling runs whatever the data names (`builtins.exec` of text): code the
            # source scan never read. No loss function unpickles anything.
            raise PermissionError("lossgrade: learner code may not unpickle data (it runs code hidden in it)")
        elif event == "mmap.__new__" and args[0] == -1:
            # Anonymous shared memory is the one allocation that RLIMIT_DATA, the memory
            # limit of a worker that may use a GPU, does not count.
            raise PermissionError("lossgrade: learner code may not map anonymous memory (mmap)")

    def _check_open(self, path: Any, flags: Any) -> None:
        real = _real(path)
        if real is None:
            return
        if self._is_hidden(real):
            self.violations.append(f"open {path}")
            raise PermissionError(f"lossgrade: learner code may not read {path}")
        if _other_process(real):
            raise PermissionError(f"lossgrade: learner code may not look into another process ({path})")
        if isinstance(flags, int) and flags & _WRITE_FLAGS:
            self._check_write(path)
        elif not _inside(real, self.readable):
            raise PermissionError(f"lossgrade: learner code may read only its own folder, Python's and the "
                                  f"system's, not {path}")
        elif os.path.isdir(real) and not _inside(real, (self.workdir,)):
            # A folder opened for its descriptor would let `dir_fd=` step around these checks.
            raise PermissionError(f"lossgrade: learner code may not open the folder {path}")

    def _check_write(self, path: Any) -> None:
        real = _real(path)
        if real is None:
            return
        if self._is_hidden(real):
            self.violations.append(f"open {path}")
        if not _inside(real, (self.workdir,)) and real != os.devnull:
            raise PermissionError(f"lossgrade: learner code may only write inside its working folder, not to {path}")
        if self._learning and real.lower().endswith(_CODE_SUFFIXES):
            raise PermissionError(f"lossgrade: learner code may not write Python code ({path}): only the code you "
                                  "hand in runs, after the grader has read it")


# Who may run code while learner code runs: the import system (each file it runs is one the
# scan read or one installed), and the standard library's builders of classes (dataclasses,
# namedtuple), whose text holds only validated identifiers; sympy's own set-up on its import,
# which torch may trigger. Any other exec or eval runs text that the scan did not read.
_RUNS_TEXT = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
_BUILDERS = (os.sep + os.path.join("dataclasses.py"), os.path.join(os.sep + "collections", "__init__.py"),
             os.path.join(os.sep + "mpmath", "ctx_mp_python.py"), os.path.join(os.sep + "sympy", "external", "importtools.py"))


def _may_run_text(caller: str) -> bool:
    return caller in _RUNS_TEXT or caller.endswith(_BUILDERS) and not caller.startswith("<")


def _refusing(what: str) -> Any:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(f"lossgrade: learner code may not {what}")

    return refused


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    obj: Any = sys.modules.get(parts[0])
    for part in parts[1:]:
        obj = getattr(obj, part, None)
    return obj


def _real(path: Any) -> str | None:
    if isinstance(path, int):  # an open descriptor: its file was checked when it was opened
        return None
    try:
        return os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return None


def _other_process(real: str) -> bool:
    """`/proc/<pid>/...` of a process other than this one (its memory, descriptors...)."""
    parts = real.split(os.sep)
    return len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit() and int(parts[2]) != os.getpid()


def _digest(path: str) -> str:
    return hashlib.sha256(path.encode(errors="surrogateescape")).hexdigest()


def _inside(real: str, roots: tuple[str, ...]) -> bool:
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots if root)

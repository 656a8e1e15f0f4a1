"""The worker's guards for its whole life: an import guard (a meta-path finder) and an audit
hook, which decide what learner code may import, open, write, run or signal: it may read only
its own folder, Python's and the system's, and write only its own folder; no program, socket,
raw memory or other process. Once in place (`Guards.seal`, the jail's last step), neither can
be removed again.

A sibling of `_guards.py`, whose `Guards` (the guard around each stretch of learner code) is
built on `Hooks`: loaded with it, by the zygote before any learner code runs; it imports
nothing from lossgrade.
"""
from __future__ import annotations

import hashlib
import os
import sys
from typing import Any

# Names a learner may not import: the grader, the reference solutions, this sandbox.
BLOCKED_IMPORTS = ("lossgrade", "grader", "solutions", "_guards", "_worker", "_wire", "_zygote", "_drivers", "_kernel",
                   "_leftovers", "_results", "_jail", "_hooks", "_drivers_loader")
# Modules whose fresh copy would bring back what the jail took out of them.
REFUSED_IMPORTS = ("_posixsubprocess",)
# Modules a worker does without (the zygote keeps them out: see _zygote.py), were one's
# entry in sys.modules removed: numpy builds arrays at any address an object names.
ABSENT_IMPORTS = ("numpy",)
# torch functions that open a file in C, out of the audit hook's sight; the jail replaces
# them. (`torch._C.StorageBase.from_file` cannot be replaced: see docs/SANDBOX.md.)
FILE_READERS = ("torch.from_file", "torch.UntypedStorage.from_file")

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


class Hooks:
    """The guards of one worker process that hold for its whole life, whatever stretch of
    code runs: `find_spec` (in `sys.meta_path`) and `audit` (an audit hook). Some of what
    they refuse is refused only while learner code runs (`_learning`, which
    `Guards.learner_code` sets); what they record goes to `violations`, the worker's record.
    """

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.hidden: frozenset[str] = frozenset()  # digests of the real paths learner code may not open (see `hide`)
        self.readable: tuple[str, ...] = ()  # the only real paths it may read (with its folder)
        self.workdir = ""
        self._learning = False  # learner code is running (the worker writes the learner's files outside it)
        self.imported: dict[str, None] = {}  # the name of every import that reached the finder (see find_spec)

    def hide(self, paths: list[str]) -> None:
        """Refuse and record opening `paths`, knowing them only by their digests: a worker
        is not told where the solutions, the class and the results are."""
        self.hidden = frozenset(_digest(os.path.realpath(p)) for p in paths)

    def _is_hidden(self, real: str) -> bool:
        parts = real.split(os.sep)
        return bool(self.hidden) and any(_digest(os.sep.join(parts[:n]) or os.sep) in self.hidden
                                         for n in range(1, len(parts) + 1))

    def _confine(self, workdir: str) -> None:
        """Refuse for good what no audit event shows (running a program through
        _posixsubprocess, torch's file readers in C), and make `workdir` the folder learner
        code may write and read: the first step of `Guards.seal`."""
        import _posixsubprocess

        _posixsubprocess.fork_exec = _refusing("run a program (_posixsubprocess)")
        for dotted in FILE_READERS:
            owner_path, _, attr = dotted.rpartition(".")
            setattr(resolve(owner_path), attr, _refusing(f"read files through {dotted}"))
        self.workdir = os.path.realpath(workdir)
        self.readable = (self.workdir, *self.readable)

    def _install(self) -> None:
        """The import guard and the audit hook, in place for the rest of this process's life:
        the last step of `Guards.seal`."""
        sys.meta_path.insert(0, self)  # type: ignore[arg-type]
        sys.addaudithook(self.audit)

    # --- imports: a meta-path finder --------------------------------------------------------
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        # Every module imported since the worker began (Worker.reset reads them there, outside
        # the guards): kept as a plain str, whose hashing and comparing run no learner code.
        self.imported[name if type(name) is str else str.__str__(name)] = None
        top = name.split(".")[0]
        if top in BLOCKED_IMPORTS:
            self.violations.append(f"import {name}")
            raise ImportError(f"lossgrade: learner code may not import {name}")
        if top in REFUSED_IMPORTS:
            raise ImportError(f"lossgrade: learner code may not import {name} again")
        if top in ABSENT_IMPORTS and self._learning:
            raise ModuleNotFoundError(f"lossgrade: {top} is not available where code is graded; use torch")

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
        elif event == "exec" and self._learning and not _may_run_text(sys._getframe(1), self.workdir):
            # Code that a library builds from text (a jinja2 template, sympy's sympify, an
            # eval in the standard library) is code the source scan never read.
            raise PermissionError("lossgrade: learner code may not run code built from text (exec)")
        elif event in ("ctypes.string_at", "ctypes.wstring_at") and self._learning:
            # Raw memory, read by address (our own reply encoder reads its own tensors so, outside).
            raise PermissionError("lossgrade: learner code may not read raw memory through ctypes")
        elif event in ("os.putenv", "os.unsetenv") and self._learning:
            # The environment is what an installed module's own set-up may read and run
            # (sympy evals SYMPY_DEBUG on its import): learner code leaves it as it is.
            raise PermissionError("lossgrade: learner code may not change the environment")
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
# scan read or one installed); the standard library's builders of classes (dataclasses,
# namedtuple), whose text holds only validated identifiers; and an installed module's own
# set-up while it is imported (torch imports sympy on the first call of broadcast_shapes, and
# sympy evals its settings): installed code from the exec up to the import, no learner frame
# and no text-made code between. Any other exec or eval runs text that the scan did not read.
_RUNS_TEXT = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
_BUILDERS = (os.sep + os.path.join("dataclasses.py"), os.path.join(os.sep + "collections", "__init__.py"))
_IMPORT_DEPTH = 64  # frames looked at between an exec and the import that runs it


def _may_run_text(frame: Any, workdir: str) -> bool:
    caller = frame.f_code.co_filename
    if caller in _RUNS_TEXT or caller.endswith(_BUILDERS) and not caller.startswith("<"):
        return True
    for _ in range(_IMPORT_DEPTH):
        if frame is None:
            return False
        filename = frame.f_code.co_filename
        if filename in _RUNS_TEXT:
            return True  # reached the import of the installed module that runs the text
        if filename.startswith("<") or not os.path.isabs(filename) or _inside(os.path.realpath(filename), (workdir,)):
            return False  # learner code, or code made from text, on the way
        frame = frame.f_back
    return False


def _refusing(what: str) -> Any:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(f"lossgrade: learner code may not {what}")

    return refused


def resolve(dotted: str) -> Any:
    """What `dotted` names, reached from `sys.modules`; None where something on the way is missing."""
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

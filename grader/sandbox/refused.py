"""What the source scan refuses, and the words that tell a learner why.

What is refused, and why (each refusal names the line and teaches):
- modules that reach into the interpreter or run code from data: gc, ctypes, importlib,
  inspect, builtins, pickle and marshal, and the grader's own names;
- attributes that lead from any object to the grader's: frames (`f_globals`, `tb_frame`...),
  a function's `__globals__` and `__closure__`, `__subclasses__`, `__dict__`, torch's
  private modules (`torch._C`), `torch.library` (the dispatcher's registrations);
- `sys` beyond a few plain facts (`sys.modules`, `sys.meta_path`, `sys.addaudithook`...);
- code built at run time: exec, eval, compile, __import__, globals(), vars(), and getattr,
  setattr or delattr with a name that is not written out in the source;
- replacing what a module holds, for everyone (`torch.allclose = ...`, `F.cross_entropy =
  ...`; a setting such as `torch.backends.cudnn.deterministic = True` is fine), or an
  object's class.

Ordinary code is untouched: any import of torch, math, typing, functools..., helper
functions and classes, comprehensions, `getattr(obj, "name")` with a written-out name.
"""
from __future__ import annotations

import functools
import importlib.machinery
import os
import sys
from dataclasses import dataclass

# Modules no loss function needs, each a way into the interpreter's own objects or a way to
# run code that the source does not show.
MODULES = {
    "gc": "finds every object in the process, the grader's included",
    "ctypes": "calls C functions and reads raw memory, beneath every guard",
    "_ctypes": "calls C functions and reads raw memory, beneath every guard",
    "cffi": "calls C functions and reads raw memory, beneath every guard",
    "importlib": "reloads and rebuilds modules behind the grader's back",
    "inspect": "reaches the frames and closures of the grader's code",
    "builtins": "changes Python's built-in functions for the grader's code too",
    "__builtin__": "changes Python's built-in functions for the grader's code too",
    "pickle": "runs code hidden in data",
    "_pickle": "runs code hidden in data",
    "cloudpickle": "runs code hidden in data",
    "dill": "runs code hidden in data",
    "marshal": "runs code hidden in data",
    "copyreg": "runs code hidden in data",
    "code": "runs code given as text",
    "codeop": "runs code given as text",
    "_posixsubprocess": "runs programs",
    "runpy": "runs code from files the grader has not read", "zipimport": "imports code the grader has not read",
    "imp": "imports code the grader has not read", "_imp": "imports code the grader has not read",
    "_frozen_importlib": "imports code the grader has not read",
    "_frozen_importlib_external": "imports code the grader has not read",
    "pkgutil": "finds and imports modules and objects by name", "pydoc": "finds objects by name",
    "shelve": "runs code hidden in data", "multiprocessing": "runs code hidden in data, in other processes",
    "unittest": "replaces objects by name (unittest.mock)", "doctest": "runs code given as text",
    "timeit": "runs code given as text", "trace": "runs code given as text and traces frames",
    "cProfile": "runs code given as text", "profile": "runs code given as text", "pdb": "runs code given as text",
    "bdb": "traces frames", "site": "imports code the grader has not read",
    "pytest": "imports modules and replaces objects by a name given as text (importorskip, monkeypatch)",
    "_pytest": "imports modules and replaces objects by a name given as text",
    "sympy": "runs text as code (sympify, lambdify)", "jinja2": "runs templates as code",
    "rlcompleter": "runs text as code", "idlelib": "runs text as code",
    "numpy": "is not available where code is graded: its array protocols build arrays of raw memory at any "
             "address an object names. Use torch's own functions (torch.log, torch.pi, tensor.item())",
}
GRADER = ("lossgrade", "grader", "solutions", "_guards", "_worker", "_wire", "_zygote", "_drivers", "_kernel", "_leftovers",
          "_results", "_jail", "_hooks", "_drivers_loader")
# sys: the plain facts and the streams; not its tables of modules and hooks.
SYS_ALLOWED = {"float_info", "int_info", "hash_info", "maxsize", "float_repr_style", "byteorder", "platform",
               "version", "version_info", "implementation", "stdout", "stderr", "exit", "getrecursionlimit",
               "setrecursionlimit", "getsizeof", "exc_info", "argv"}
FRAMES = "leads to the frames of the grader's code and to everything they hold"
ATTRIBUTES = {
    "__globals__": "leads from a function to every name of its module, the grader's too",
    "__closure__": "opens a function's closure (how the grader's guards keep what they guard)",
    "__code__": "rewrites or runs a function's code object",
    "__subclasses__": "lists every class in the process, the grader's included",
    "__dict__": "reads or changes a module or class behind its names",
    "__self__": "leads from a built-in function to its module",
    "__builtins__": "changes Python's built-in functions for the grader's code too",
    "__getattribute__": "looks up attributes by a name the source does not show",
    "__loader__": "loads modules behind the grader's back",
    "__spec__": "loads modules behind the grader's back",
    "__import__": "imports modules by a name the source does not show",
    "f_globals": FRAMES, "f_locals": FRAMES, "f_back": FRAMES, "f_builtins": FRAMES, "f_code": FRAMES,
    "tb_frame": FRAMES, "gi_frame": FRAMES, "cr_frame": FRAMES, "ag_frame": FRAMES, "gi_code": FRAMES,
    "_getframe": FRAMES, "_current_frames": FRAMES, "currentframe": FRAMES, "walk_stack": FRAMES,
    "walk_tb": FRAMES, "settrace": FRAMES, "setprofile": FRAMES,
    "meta_path": "changes how modules are imported (the grader's import guard lives there)",
    "path_hooks": "changes how modules are imported", "path_importer_cache": "changes how modules are imported",
    "addaudithook": "installs an audit hook (the grader's guard is one)",
    "_C": "is torch's C core, beneath the operators that the grader watches",
    "_ops": "is torch's operator registry, beneath the operators that the grader watches",
    "library": "registers kernels with torch's dispatcher, replacing the grader's refusals",
    "py_impl": "registers kernels with torch's dispatcher, replacing the grader's refusals",
    "load_library": "loads compiled code into the process",
    "cpp_extension": "compiles and loads C++ into the process",
    "CodeType": "builds code objects from raw bytes", "FunctionType": "builds functions from code objects",
    "attrgetter": "looks up attributes by a name the source does not show",
    "methodcaller": "calls methods by a name the source does not show",
    "get_objects": "finds every object in the process", "get_referrers": "finds every object in the process",
    "__annotations__": "changes annotations that typing evaluates as code",
    "get_type_hints": "evaluates annotations as code", "ForwardRef": "evaluates text as code",
    "_eval_type": "evaluates text as code", "_evaluate": "evaluates text as code",
    "resolve_name": "finds objects by a name given as text", "locate": "finds objects by a name given as text",
    "dictConfig": "builds objects by a name given as text", "fileConfig": "builds objects by a name given as text",
    **{name: f"is the module {name}, which {why}" for name, why in MODULES.items()},
    "import_module": "imports modules by a name given as text",
    "stride_tricks": "views raw memory outside an array's bounds (as_strided)",
    "__array_interface__": "makes an array of raw memory at any address",
    "__array_struct__": "makes an array of raw memory at any address",
    "__cuda_array_interface__": "makes a tensor of raw memory at any address",
    "byte_bounds": "reads the raw addresses of arrays",
    "importorskip": "imports modules by a name given as text",
    "getattr": "looks up attributes by a name the source does not show (a module's getattr)",
    "setattr": "changes attributes by a name the source does not show (a module's setattr)",
    "delattr": "deletes attributes by a name the source does not show (a module's delattr)",
    "sympify": "runs text as code", "parse_expr": "runs text as code", "lambdify": "runs text as code",
    "get_field": "looks up attributes by a name the source does not show (a format field)",
    "serialization": "loads pickled data, which runs code hidden in it",
    "sys": "is the module sys, reached from another module; `import sys` and use its plain facts",
    "torch": "is the module torch, reached from another module; `import torch` and use it directly",
    "numpy": "turns a tensor into a numpy array, and numpy is not available where code is graded (its array "
             "protocols read raw memory); keep tensors, or use tensor.tolist() and tensor.item()",
}
LOOKUPS = ("getattr", "setattr", "delattr")  # read only where called directly
# What torch holds that runs code the scan has not read: pickled data, archives of code.
TORCH_REFUSED = {
    "load": "unpickles a file, which runs code hidden in it (a loss function loads nothing)",
    "package": "imports code from an archive the grader has not read",
    "hub": "imports code from a folder or a download the grader has not read",
}
# Keywords that switch on unpickling: code hidden in data.
PICKLE_KEYWORDS = {"weights_only": False, "allow_pickle": True}
NAMES = {
    "exec": "runs code given as text", "eval": "runs code given as text", "compile": "builds code from text",
    "__import__": "imports modules by a name the source does not show",
    "globals": "reads or changes every name of the module at run time",
    "locals": "reads the names of a frame at run time",
    "vars": "reads or changes an object's names behind its attributes",
    "breakpoint": "stops in a debugger", "__builtins__": "changes Python's built-in functions",
    "__loader__": "loads modules behind the grader's back", "__spec__": "loads modules behind the grader's back",
    "__array_interface__": "makes an array of raw memory at any address",
    "__array_struct__": "makes an array of raw memory at any address",
    "__cuda_array_interface__": "makes a tensor of raw memory at any address",
}


@dataclass(frozen=True)
class Refusal:
    file: str
    line: int
    code: str  # the offending line, stripped
    what: str  # "`import gc`"
    why: str
    unknown: bool = False  # a module that is not there, rather than one that is not allowed

    @property
    def message(self) -> str:
        if self.unknown:
            return (f"{self.file} could not be imported: ModuleNotFoundError (line {self.line}): {self.why}. Import "
                    "only torch, the standard library and the exercise files you hand in.")
        return (f"Your code was not run: line {self.line} of {self.file} ({self.code!r}) uses {self.what}, which "
                f"{self.why}. Learner code may not reach into the grader's machinery or Python's internals; a loss "
                "function needs only tensor operations (torch, math, and your own helpers). Remove that line.")


PRIVATE = "is one of torch's private modules, beneath the operators that the grader watches; use torch's public API"


@functools.lru_cache(maxsize=4096)
def installed(name: str) -> bool:
    """Whether the top-level module `name` is built in or installed, found on Python's path
    without the current folder (a learner's folder is not where their code is graded), and
    without importing it."""
    if name in sys.builtin_module_names:  # not sys.modules: what this process imported (a reference
        return True                        # solution, say) is not what a worker finds installed
    here = os.getcwd()
    path = [p for p in sys.path if p not in ("", ".", here)]
    try:
        return importlib.machinery.PathFinder.find_spec(name, path) is not None
    except (ImportError, ValueError):
        return False


def sys_why(attr: str) -> str:
    return (f"is not one of the plain facts of sys that learner code may use ({', '.join(sorted(SYS_ALLOWED))}); "
            f"sys.{attr} reaches the interpreter's tables of modules and hooks, the grader's included")

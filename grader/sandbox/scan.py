"""Read a learner's source before any of it runs, and refuse code that reaches for the grader.

Learner code runs in a worker process beside the grader's own guards and drivers, which
are objects in that process: code that can find them (through the garbage collector,
`sys.modules`, frames, closures, ctypes...) can take them apart (replace the hook, destroy
the refusing library, clear the record) and then call what the exercise forbids. The
worker's guards stay, as a second line; this scan is the first, and it runs here, in the
trusted process, on the source the worker would receive (a file, or the module that
`lossgrade.check` builds from a notebook's functions).

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

Ordinary code is untouched: any import of torch, math, numpy, typing, functools..., helper
functions and classes, comprehensions, `getattr(obj, "name")` with a written-out name.
"""
from __future__ import annotations

import ast
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
}
GRADER = ("lossgrade", "grader", "solutions", "_guards", "_worker", "_wire", "_zygote", "_drivers")
# sys: the plain facts and the streams; not its tables of modules and hooks.
SYS_ALLOWED = {"float_info", "int_info", "hash_info", "maxsize", "float_repr_style", "byteorder", "platform",
               "version", "version_info", "implementation", "stdout", "stderr", "exit", "getrecursionlimit",
               "setrecursionlimit", "path", "argv", "getsizeof", "exc_info"}
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
    **{name: f"is the module {name}, which {why}" for name, why in MODULES.items()},
    "sys": "is the module sys, reached from another module; `import sys` and use its plain facts",
}
NAMES = {
    "exec": "runs code given as text", "eval": "runs code given as text", "compile": "builds code from text",
    "__import__": "imports modules by a name the source does not show",
    "globals": "reads or changes every name of the module at run time",
    "locals": "reads the names of a frame at run time",
    "vars": "reads or changes an object's names behind its attributes",
    "breakpoint": "stops in a debugger", "__builtins__": "changes Python's built-in functions",
    "__loader__": "loads modules behind the grader's back", "__spec__": "loads modules behind the grader's back",
}


@dataclass(frozen=True)
class Refusal:
    file: str
    line: int
    code: str  # the offending line, stripped
    what: str  # "`import gc`"
    why: str

    @property
    def message(self) -> str:
        return (f"Your code was not run: line {self.line} of {self.file} ({self.code!r}) uses {self.what}, which "
                f"{self.why}. Learner code may not reach into the grader's machinery or Python's internals; a loss "
                "function needs only tensor operations (torch, math, and your own helpers). Remove that line.")


def scan(files: dict[str, str]) -> Refusal | None:
    """The first thing in `files` (name -> source) that learner code may not do, or None.
    A file that does not parse is left to the worker, which reports its SyntaxError."""
    for name, source in files.items():
        try:
            tree = ast.parse(source, filename=name)
        except (SyntaxError, ValueError):
            continue
        found = _Scanner().refusal(tree)
        if found is not None:
            line, what, why = found
            lines = source.splitlines()
            code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            return Refusal(name, line, code[:120], what, why)
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.sys_names: set[str] = set()  # names bound to the module sys
        self.imported: set[str] = set()  # every name an import binds
        self.torch_names: set[str] = set()  # names bound to the module torch itself
        self.found: tuple[int, str, str] | None = None

    def refusal(self, tree: ast.AST) -> tuple[int, str, str] | None:
        for node in ast.walk(tree):  # imports first: a name may be used above its import
            for child in ast.iter_child_nodes(node):
                child.parent = node  # type: ignore[attr-defined]
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._bind(node)
        for node in ast.walk(tree):
            self._check(node)
        return self.found

    def _refuse(self, node: ast.AST, what: str, why: str) -> None:
        line = getattr(node, "lineno", 0)
        if self.found is None or line <= self.found[0]:  # the first line; on it, the innermost reason
            self.found = (line, what, why)

    # --- imports ------------------------------------------------------------------------
    def _bind(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            self.imported.add(bound)
            if isinstance(node, ast.Import) and (alias.name == "sys" or alias.asname is None):
                top = alias.name if alias.asname else alias.name.split(".")[0]
                if top == "sys":
                    self.sys_names.add(bound)
                elif top == "torch":
                    self.torch_names.add(bound)

    def _check_module(self, node: ast.AST, dotted: str, shown: str) -> None:
        parts = dotted.split(".")
        if parts[0] in MODULES:
            self._refuse(node, f"`{shown}`", f"imports {parts[0]}, which {MODULES[parts[0]]}")
        elif parts[0] in GRADER:
            self._refuse(node, f"`{shown}`", "imports the grader or the reference solutions; write the code yourself")
        elif parts[0] == "torch" and len(parts) > 1 and (parts[1].startswith("_") or parts[1] == "library"
                                                           or "cpp_extension" in parts):
            self._refuse(node, f"`{shown}`", f"imports {dotted}, torch's internals beneath the operators that the "
                                             "grader watches")

    # --- every node -----------------------------------------------------------------------
    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self._check_module(node, alias.name, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            self._check_module(node, node.module or "", f"from {module} import ...")
            for alias in node.names:
                if node.module == "sys" and alias.name not in SYS_ALLOWED:
                    self._refuse(node, f"`from sys import {alias.name}`", _sys_why(alias.name))
                elif alias.name in ATTRIBUTES and node.module != "sys":
                    self._refuse(node, f"`from {module} import {alias.name}`", ATTRIBUTES[alias.name])
                elif (node.module or "").split(".")[0] == "torch" and alias.name.startswith("_") \
                        and not alias.name.startswith("__"):
                    self._refuse(node, f"`from {module} import {alias.name}`", _PRIVATE)
                elif alias.name == "*" and node.module in ("sys", "os", "torch"):
                    self._refuse(node, f"`from {module} import *`", "binds names the source does not show")
        elif isinstance(node, ast.Attribute):
            self._check_attribute(node, node.attr, node.value)
        elif isinstance(node, ast.Name):
            if node.id in NAMES:
                self._refuse(node, f"`{node.id}`", NAMES[node.id])
            elif node.id in self.sys_names and not _is_attribute_base(node):
                self._refuse(node, "the module sys itself (not one of its attributes)",
                             "lets code reach sys's tables of modules and hooks; write sys.<name> where you need it")
        elif isinstance(node, ast.Call):
            self._check_call(node)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            value = getattr(node, "value", None)
            if isinstance(value, ast.Constant) and not isinstance(node, ast.AugAssign):
                return  # a setting (torch.backends.cudnn.deterministic = True): no code replaced
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                self._check_target(target)

    def _check_attribute(self, node: ast.AST, attr: str, value: ast.AST) -> None:
        if isinstance(value, ast.Name) and value.id in self.sys_names:
            if attr not in SYS_ALLOWED:
                self._refuse(node, f"`sys.{attr}`", _sys_why(attr))
            return
        if attr in ATTRIBUTES:
            self._refuse(node, f"`.{attr}`", ATTRIBUTES[attr])
        elif isinstance(value, ast.Name) and value.id in self.torch_names and attr.startswith("_") \
                and not attr.startswith("__"):
            self._refuse(node, f"`{value.id}.{attr}`", _PRIVATE)

    def _check_call(self, node: ast.Call) -> None:
        function = node.func
        if not (isinstance(function, ast.Name) and function.id in ("getattr", "setattr", "delattr")):
            return
        if len(node.args) < 2 or not (isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            self._refuse(node, f"`{function.id}` with a computed name",
                         "looks up attributes by a name the source does not show; write the name out")
            return
        name = node.args[1].value
        self._check_attribute(node, name, node.args[0])
        constant = len(node.args) > 2 and isinstance(node.args[2], ast.Constant)
        if function.id == "delattr" or function.id == "setattr" and not constant:
            self._check_changed(node, node.args[0], name)

    def _check_target(self, target: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self._check_target(item)
        elif isinstance(target, ast.Starred):
            self._check_target(target.value)
        elif isinstance(target, ast.Attribute):
            self._check_changed(target, target.value, target.attr)
        elif isinstance(target, ast.Subscript):
            self._check_changed(target, target.value, None)

    def _check_changed(self, node: ast.AST, base: ast.AST, attr: str | None) -> None:
        """An assignment to `base.attr` (or `base[...]`): not to a module, nor to a class."""
        root = _root(base)
        if attr == "__class__" or _mentions_class(base):
            self._refuse(node, "an assignment to an object's class",
                         "changes what the object is for the grader's code too")
        elif root in self.imported or root in self.sys_names:
            shown = f"{root}...{attr}" if attr else f"{root}[...]"
            self._refuse(node, f"an assignment to `{shown}`",
                         f"changes the module {root} for everyone in the process, the grader's code included")


_PRIVATE = "is one of torch's private modules, beneath the operators that the grader watches; use torch's public API"


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _mentions_class(node: ast.AST) -> bool:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        if isinstance(node, ast.Attribute) and node.attr == "__class__":
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type":
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _is_attribute_base(node: ast.Name) -> bool:
    parent = getattr(node, "parent", None)
    return isinstance(parent, ast.Attribute) and parent.value is node


def _sys_why(attr: str) -> str:
    return (f"is not one of the plain facts of sys that learner code may use ({', '.join(sorted(SYS_ALLOWED))}); "
            f"sys.{attr} reaches the interpreter's tables of modules and hooks, the grader's included")

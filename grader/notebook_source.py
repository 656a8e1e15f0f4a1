"""Turn functions defined in a notebook into the source of an exercise module.

`lossgrade.check("ex03", cross_entropy=my_ce)` must not call `my_ce` in the notebook's
process: the learner's code runs only in a sandboxed worker, which receives text. So this
module writes the file the learner would have written: the source of each function (from
`inspect`, as the notebook holds it), and for every global name that source uses, what it
was bound to in the notebook:

- a module becomes an import line (`import torch.nn.functional as F`);
- a function or class from an installed library becomes `from module import name`;
- a function or class defined in the notebook (or in a file of the learner's) is sent as
  source too, and its own names are resolved the same way, recursively;
- a small constant (int, float, str, bool, None, or a tuple of them) becomes an assignment;
- anything else (a tensor, a list, a lambda, a closure over local variables, a name never
  defined) is a problem, reported in a sentence that says how to fix it.

Nothing here imports torch or runs the learner's code: sources are read, parsed and
compiled (never executed) to find the names they use.
"""
from __future__ import annotations
import __future__

import ast
import builtins
import dis
import functools
import inspect
import linecache
import math
import site
import sys
import sysconfig
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_CONSTANT_CHARS = 10_000
ALLOWED = "modules, functions and classes written with def/class, and small constants (int, float, str, bool, None, or tuples of them)"


@dataclass
class ModuleSource:
    """The exercise module to send, or the problems that stop it from being sent."""

    text: str
    problems: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # exercise functions left as stubs


def build(functions: dict[str, Any], expected: tuple[str, ...], exercise: str = "the exercise",
          classes: frozenset[str] = frozenset()) -> ModuleSource:
    """The source of a module that binds each name in `expected` to the given object. An
    exercise function (or class, if named in `classes`) not in `functions` becomes a stub
    that raises NotImplementedError, as the exercise's own stub does."""
    return _Builder(functions, expected, exercise, classes).run()


# --- what an object is -----------------------------------------------------------------
def is_lambda(value: Any) -> bool:
    return isinstance(value, types.FunctionType) and value.__name__ == "<lambda>"


@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[Path, ...]:
    """Where installed code lives: what the sandbox's `python -I` can import too."""
    found = set(sysconfig.get_paths().values())
    try:
        found.update(site.getsitepackages())
    except AttributeError:  # some virtualenv builds have no getsitepackages
        pass
    return tuple(Path(p).resolve() for p in found if p and Path(p).is_dir())


def is_library_module(module: types.ModuleType) -> bool:
    """Installed (standard library, site-packages): importable where learner code runs.
    The notebook itself, and files beside it, are not."""
    name = module.__name__
    if name == "__main__":
        return False
    top = sys.modules.get(name.split(".")[0], module)
    file = getattr(top, "__file__", None) or getattr(module, "__file__", None)
    if not file:
        return name.split(".")[0] in sys.builtin_module_names or name.split(".")[0] in sys.stdlib_module_names
    path = Path(file).resolve()
    return any(path.is_relative_to(root) for root in _library_roots())


def is_local(value: Any) -> bool:
    """A function or class the learner wrote: in the notebook, or in a file of theirs."""
    module = sys.modules.get(getattr(value, "__module__", None) or "")
    return module is None or not is_library_module(module)


def _library_import(value: Any, name: str) -> str | None:
    """`from module import thing [as name]` that gives back `value`, if there is one."""
    module_name = getattr(value, "__module__", None)
    module = sys.modules.get(module_name or "")
    if module is None:
        return None
    for attribute in (getattr(value, "__qualname__", ""), getattr(value, "__name__", "")):
        if attribute and "." not in attribute and getattr(module, attribute, None) is value:
            return f"from {module_name} import {attribute}" + ("" if attribute == name else f" as {name}")
    return None


def literal(value: Any) -> str | None:
    """Python source for a small constant, or None when `value` is not one."""
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return repr(value)
    if kind is float:
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if kind is tuple:
        items = [literal(item) for item in value]
        if any(item is None for item in items):
            return None
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"  # type: ignore[arg-type]
    return None


def describe(value: Any) -> str:
    """`a torch.Tensor`, `a list`: how a value is named in a message."""
    kind = type(value)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__.split('.')[0]}.{kind.__qualname__}"
    article = "an" if name[0].lower() in "aeiou" else "a"
    shape = getattr(value, "shape", None)
    suffix = ""
    if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):  # torch.Size is a tuple
        suffix = f" of shape {tuple(shape)}"
    return f"{article} {name}{suffix}"


# --- sources ------------------------------------------------------------------------------
def _function_source(function: types.FunctionType) -> str:
    """The `def` (decorators included) as the notebook holds it, dedented."""
    return textwrap.dedent("".join(inspect.getsourcelines(function)[0]))


def _class_functions(cls: type) -> list[types.FunctionType]:
    found = []
    for value in vars(cls).values():
        value = getattr(value, "__func__", None) or getattr(value, "fget", None) or value
        if isinstance(value, types.FunctionType):
            found.append(value)
    return found


def _class_source(cls: type) -> str:
    """A class's source. `inspect.getsource` looks classes up through their module's file,
    which a notebook's `__main__` lacks (or, under a test runner, is some other file); a
    method knows its own cell, so look for the class there first."""
    for method in _class_functions(cls):
        filename, line = method.__code__.co_filename, method.__code__.co_firstlineno
        lines = linecache.getlines(filename)
        try:
            tree = ast.parse("".join(lines))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == cls.__name__ and node.lineno <= line <= (node.end_lineno or 0):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                return textwrap.dedent("".join(lines[start - 1 : node.end_lineno]))
    return textwrap.dedent(inspect.getsource(cls))


def _globals_of(value: Any) -> dict[str, Any]:
    if isinstance(value, types.FunctionType):
        return value.__globals__
    for method in _class_functions(value):
        return method.__globals__
    module = sys.modules.get(value.__module__)
    return vars(module) if module else {}


def global_names(source: str, flags: int = 0) -> list[str]:
    """Every global name the source uses, in order: at definition time (decorators,
    defaults, annotations, base classes, class bodies) and when its functions run."""
    names: dict[str, None] = {}

    def walk(code: types.CodeType) -> None:
        optimized = code.co_flags & inspect.CO_OPTIMIZED
        instructions = list(dis.get_instructions(code))
        stored = set() if optimized else {i.argval for i in instructions if i.opname in ("STORE_NAME", "DELETE_NAME")}
        for instruction in instructions:
            name = instruction.argval
            loads_global = instruction.opname in ("LOAD_GLOBAL", "LOAD_FROM_DICT_OR_GLOBALS") or (
                instruction.opname == "LOAD_NAME" and not optimized and name not in stored)
            if loads_global and isinstance(name, str) and not (name.startswith("__") and name.endswith("__")):
                names[name] = None
        for constant in code.co_consts:
            if isinstance(constant, types.CodeType):
                walk(constant)

    walk(compile(source, "<lossgrade>", "exec", flags=flags, dont_inherit=True))
    return list(names)


# --- signatures ---------------------------------------------------------------------------
def plain_signature(function: Any) -> inspect.Signature:
    """The signature without annotations, as a learner would type it."""
    signature = inspect.signature(function)
    return signature.replace(
        parameters=[p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()],
        return_annotation=inspect.Signature.empty,
    )


def signature_problem(name: str, given: Any, reference: Any) -> str | None:
    """Why `given` cannot be called the way the checks call the reference, if it cannot:
    with every parameter by position, and with the optional ones by keyword."""
    wanted = plain_signature(reference)
    try:
        got = plain_signature(given)
    except (TypeError, ValueError):
        return None
    params = list(wanted.parameters.values())
    required = [object()] * sum(p.default is inspect.Parameter.empty for p in params)
    optional = {p.name: object() for p in params if p.default is not inspect.Parameter.empty}
    reason = None
    for args, kwargs in (([object()] * len(params), {}), (required, optional)):
        try:
            got.bind(*args, **kwargs)
        except TypeError as exc:
            reason = str(exc)
            break
    if reason is None:
        return None
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in got.parameters.values())
    lacking = [p.name for p in params if p.name not in got.parameters and not accepts_any]
    if lacking:
        reason = f"it has no parameter {', '.join(lacking)}"
    called = f"`{given.__name__}`" if given.__name__ == name else f"`{name}` (your `{given.__name__}`)"
    return (f"{called} takes {got}, but the checks call it as {name}{wanted} ({reason}). "
            f"Change its first line to `def {given.__name__}{wanted}:`.")


# --- building the module --------------------------------------------------------------------
class _Builder:
    def __init__(self, functions: dict[str, Any], expected: tuple[str, ...], exercise: str, classes: frozenset[str]) -> None:
        self.classes = classes
        self.future = 0  # `from __future__ import annotations` in a cell sent: keep it
        self.functions = functions
        self.expected = expected
        self.exercise = exercise
        self.imports: dict[str, None] = {}
        self.constants: list[str] = []
        self.body: list[str] = []
        self.bound: dict[str, Any] = {}  # name in the module -> what it is bound to
        self.users: dict[str, str] = {}  # name -> who needed it first (for messages)
        self.defined: dict[int, str] = {}  # id(function or class) -> its def/class name
        self.problems: list[str] = []

    def run(self) -> ModuleSource:
        for name, value in self.functions.items():
            self.bound[name], self.users[name] = value, f"the `{name}` you passed"
        for name, value in self.functions.items():
            self.root(name, value)
        missing = [name for name in self.expected if name not in self.bound]
        for name in missing:
            message = repr(f"{name} was not passed to lossgrade.check")
            if name in self.classes:
                self.body.append(f"class {name}:\n    def __init__(self, *args, **kwargs):\n        raise NotImplementedError({message})\n\n"
                                 f"    @staticmethod\n    def apply(*args, **kwargs):\n        raise NotImplementedError({message})")
            else:
                self.body.append(f"def {name}(*args, **kwargs):\n    raise NotImplementedError({message})")
        header = f"# Written by lossgrade.check from the functions you passed for {self.exercise}.\n"
        if self.future:
            header += "from __future__ import annotations\n"
        parts = [header + "\n".join(self.imports)] if self.imports else [header]
        parts += ["\n".join(self.constants)] if self.constants else []
        text = "\n\n\n".join(parts + self.body) + "\n"
        return ModuleSource(text, self.problems, missing)

    def root(self, name: str, value: Any) -> None:
        """An exercise function (or class) as passed."""
        if is_lambda(value):
            self.problems.append(f"`{name}` is a lambda: lossgrade sends your code to the grader as source, which "
                                 f"needs a `def {name}(...):` of its own. Define it with def and pass that.")
        elif not callable(value):
            self.problems.append(f"`{name}` should be a function, but you passed {describe(value)}.")
        elif not isinstance(value, type) and not isinstance(inspect.unwrap(value), types.FunctionType):
            self.problems.append(f"`{name}` should be a function written with def, but you passed {value!r} "
                                 f"({describe(value)}). Write it in the notebook and pass that.")
        elif not is_local(value):
            self.problems.append(f"`{name}` is {_qualified(value)}, which comes with a library: "
                                 f"{self.exercise} asks you to write {name} yourself. Define it with def and pass that.")
        else:
            defined = self.define(value, f"the `{name}` you passed")
            if defined and defined != name:
                self.body.append(f"{name} = {defined}")

    def bind(self, name: str, value: Any, user: str) -> None:
        """Make `name` mean `value` in the module, as it does for `user` in the notebook."""
        if name in self.bound:
            same = self.bound[name] is value or (
                type(self.bound[name]) is type(value) and literal(value) is not None and self.bound[name] == value)
            if same:
                return
            self.problems.append(
                f"{user} uses `{name}`, which is {_what(value)} in your notebook, while {self.users[name]} "
                f"is {_what(self.bound[name])}: both would be called `{name}` in one module. Pass the "
                f"function that the others call, or rename one of them.")
            return
        self.bound[name], self.users[name] = value, user
        if isinstance(value, types.ModuleType):
            self.module_import(name, value, user)
        elif literal(value) is not None:
            self.constant(name, value, user)
        elif is_lambda(value):
            self.problems.append(f"{user} uses `{name}`, a lambda, whose source lossgrade cannot send: "
                                 f"write it as `def {name}(...):`.")
        elif (isinstance(value, type) or isinstance(inspect.unwrap(value), types.FunctionType)) and is_local(value):
            defined = self.define(value, f"`{name}` (used by {_short(user)})")
            if defined and defined != name:
                self.body.append(f"{name} = {defined}")
        elif callable(value) and (line := _library_import(value, name)):
            self.imports[line] = None
        else:
            self.problems.append(
                f"{user} uses the notebook variable `{name}` ({describe(value)}), which cannot be sent to the "
                f"grader: only {ALLOWED} can. Create `{name}` inside the function instead.")

    def module_import(self, name: str, module: types.ModuleType, user: str) -> None:
        if not is_library_module(module):
            self.problems.append(f"{user} uses the module `{module.__name__}`, which is not installed where the "
                                 "grader runs your code: copy what you need from it into the notebook.")
            return
        real = module.__name__
        self.imports[f"import {real}" if real == name else f"import {real} as {name}"] = None

    def constant(self, name: str, value: Any, user: str) -> None:
        text = literal(value)
        assert text is not None
        if len(text) > MAX_CONSTANT_CHARS:
            self.problems.append(f"{user} uses `{name}`, a constant of {len(text):,} characters, too large to send "
                                 "to the grader: compute it inside the function instead.")
            return
        self.constants.append(f"{name} = {text}")

    def define(self, value: Any, user: str) -> str | None:
        """Send the source of a function or class the learner wrote (once), after what it
        needs; the name its source defines."""
        if id(value) in self.defined:
            return self.defined[id(value)]
        target = value if isinstance(value, type) else inspect.unwrap(value)
        who = f"`{value.__name__}`"
        free = [n for n in getattr(getattr(target, "__code__", None), "co_freevars", ()) if n != "__class__"]
        if free:
            self.problems.append(
                f"{who} is defined inside another function and uses its variable(s) {', '.join(free)}: "
                "lossgrade can only send functions defined at the top level of a cell. Move it out, and pass "
                "what it needs as arguments.")
            return None
        try:
            source = _class_source(target) if isinstance(target, type) else _function_source(target)
            tree = ast.parse(source)
            node = tree.body[0]
            if len(tree.body) != 1 or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                raise SyntaxError("not one definition")
            flags = _future_flags(target)
            self.future |= flags
            names = global_names(source, flags)
        except (OSError, TypeError, SyntaxError, IndexError, ValueError):
            self.problems.append(
                f"The source of {who} is not available, so it cannot be sent to the grader (functions typed "
                "at a plain Python prompt have none). Define it in a notebook cell or a .py file, or pass "
                "path= with the exercise file.")
            return None
        self.defined[id(value)] = node.name
        if node.name not in self.bound:
            self.bound[node.name], self.users[node.name] = value, user
        elif self.bound[node.name] is not value:
            self.problems.append(
                f"Two different functions are called `{node.name}`: {user} and {self.users[node.name]}. "
                "Rename one of them.")
            return None
        namespace = _globals_of(target)
        for name in names:
            if name in namespace:
                self.bind(name, namespace[name], f"`{node.name}`")
            elif name in self.expected or name in self.bound or hasattr(builtins, name):
                continue  # an exercise function (passed, or stubbed), or a builtin
            else:
                self.problems.append(
                    f"`{node.name}` uses `{name}`, which is not defined in your notebook: run the cell that "
                    "defines it (or define it), then check again.")
        self.body.append(source.rstrip())
        return node.name


def _future_flags(value: Any) -> int:
    """The `from __future__ import annotations` flag, if the source was compiled with it."""
    codes = [value.__code__] if isinstance(value, types.FunctionType) else [f.__code__ for f in _class_functions(value)]
    flag = __future__.annotations.compiler_flag
    return flag if any(code.co_flags & flag for code in codes) else 0


def _qualified(value: Any) -> str:
    return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', getattr(value, '__name__', '?'))}"


def _what(value: Any) -> str:
    if isinstance(value, (types.FunctionType, type)):
        return f"the {'class' if isinstance(value, type) else 'function'} `{value.__name__}`"
    return describe(value)


def _short(user: str) -> str:
    return user.removeprefix("the ").removesuffix(" you passed")

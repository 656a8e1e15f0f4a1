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

Nothing here imports torch or runs the learner's code (see `notebook_objects`, which
says what each object is and reads its source).
"""
from __future__ import annotations

import ast
import builtins
import inspect
import types
from dataclasses import dataclass, field
from typing import Any

from lossgrade.core import notebook_objects as objects

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
        if objects.is_lambda(value):
            self.problems.append(f"`{name}` is a lambda: lossgrade sends your code to the grader as source, which "
                                 f"needs a `def {name}(...):` of its own. Define it with def and pass that.")
        elif not callable(value):
            self.problems.append(f"`{name}` should be a function, but you passed {objects.describe(value)}.")
        elif not isinstance(value, type) and not isinstance(inspect.unwrap(value), types.FunctionType):
            self.problems.append(f"`{name}` should be a function written with def, but you passed {value!r} "
                                 f"({objects.describe(value)}). Write it in the notebook and pass that.")
        elif not objects.is_local(value):
            self.problems.append(f"`{name}` is {objects.qualified(value)}, which comes with a library: "
                                 f"{self.exercise} asks you to write {name} yourself. Define it with def and pass that.")
        else:
            defined = self.define(value, f"the `{name}` you passed")
            if defined and defined != name:
                self.body.append(f"{name} = {defined}")

    def bind(self, name: str, value: Any, user: str) -> None:
        """Make `name` mean `value` in the module, as it does for `user` in the notebook."""
        if name in self.bound:
            same = self.bound[name] is value or (
                type(self.bound[name]) is type(value) and objects.literal(value) is not None and self.bound[name] == value)
            if same:
                return
            self.problems.append(
                f"{user} uses `{name}`, which is {objects.what(value)} in your notebook, while {self.users[name]} "
                f"is {objects.what(self.bound[name])}: both would be called `{name}` in one module. Pass the "
                f"function that the others call, or rename one of them.")
            return
        self.bound[name], self.users[name] = value, user
        if isinstance(value, types.ModuleType):
            self.module_import(name, value, user)
        elif objects.literal(value) is not None:
            self.constant(name, value, user)
        elif objects.is_lambda(value):
            self.problems.append(f"{user} uses `{name}`, a lambda, whose source lossgrade cannot send: "
                                 f"write it as `def {name}(...):`.")
        elif (isinstance(value, type) or isinstance(inspect.unwrap(value), types.FunctionType)) and objects.is_local(value):
            defined = self.define(value, f"`{name}` (used by {_short(user)})")
            if defined and defined != name:
                self.body.append(f"{name} = {defined}")
        elif callable(value) and (line := objects.library_import(value, name)):
            self.imports[line] = None
        else:
            self.problems.append(
                f"{user} uses the notebook variable `{name}` ({objects.describe(value)}), which cannot be sent to the "
                f"grader: only {ALLOWED} can. Create `{name}` inside the function instead.")

    def module_import(self, name: str, module: types.ModuleType, user: str) -> None:
        if not objects.is_library_module(module):
            self.problems.append(f"{user} uses the module `{module.__name__}`, which is not installed where the "
                                 "grader runs your code: copy what you need from it into the notebook.")
            return
        real = module.__name__
        self.imports[f"import {real}" if real == name else f"import {real} as {name}"] = None

    def constant(self, name: str, value: Any, user: str) -> None:
        text = objects.literal(value)
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
            source = objects.class_source(target) if isinstance(target, type) else objects.function_source(target)
            tree = ast.parse(source)
            node = tree.body[0]
            if len(tree.body) != 1 or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                raise SyntaxError("not one definition")
            flags = objects.future_flags(target)
            self.future |= flags
            names = objects.global_names(source, flags)
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
        namespace = objects.globals_of(target)
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


def _short(user: str) -> str:
    return user.removeprefix("the ").removesuffix(" you passed")

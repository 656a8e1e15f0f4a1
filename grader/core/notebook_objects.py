"""What an object from a notebook is, and the source that defines it: the facts
`notebook_source` needs to rewrite a learner's functions as a module.

A module, a function or class from an installed library (importable where learner code
runs) or the learner's own (in the notebook, or in a file of theirs), a small constant, or
something that cannot be sent; the source of a function or class as the notebook holds it,
the global names that source uses, and whether a learner's function can be called the way
the checks call the reference. Nothing here imports torch or runs the learner's code:
sources are read, parsed and compiled (never executed).
"""
from __future__ import annotations
import __future__

import ast
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
from pathlib import Path
from typing import Any


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


def library_import(value: Any, name: str) -> str | None:
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
def function_source(function: types.FunctionType) -> str:
    """The `def` (decorators included) as the notebook holds it, dedented."""
    return textwrap.dedent("".join(inspect.getsourcelines(function)[0]))


def class_functions(cls: type) -> list[types.FunctionType]:
    found = []
    for value in vars(cls).values():
        value = getattr(value, "__func__", None) or getattr(value, "fget", None) or value
        if isinstance(value, types.FunctionType):
            found.append(value)
    return found


def class_source(cls: type) -> str:
    """A class's source. `inspect.getsource` looks classes up through their module's file,
    which a notebook's `__main__` lacks (or, under a test runner, is some other file); a
    method knows its own cell, so look for the class there first."""
    for method in class_functions(cls):
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


def globals_of(value: Any) -> dict[str, Any]:
    if isinstance(value, types.FunctionType):
        return value.__globals__
    for method in class_functions(value):
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


def future_flags(value: Any) -> int:
    """The `from __future__ import annotations` flag, if the source was compiled with it."""
    codes = [value.__code__] if isinstance(value, types.FunctionType) else [f.__code__ for f in class_functions(value)]
    flag = __future__.annotations.compiler_flag
    return flag if any(code.co_flags & flag for code in codes) else 0



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


# --- names in messages -------------------------------------------------------------------
def qualified(value: Any) -> str:
    return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', getattr(value, '__name__', '?'))}"


def what(value: Any) -> str:
    if isinstance(value, (types.FunctionType, type)):
        return f"the {'class' if isinstance(value, type) else 'function'} `{value.__name__}`"
    return describe(value)

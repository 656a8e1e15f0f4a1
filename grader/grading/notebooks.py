"""A learner's notebook (`.ipynb`) as the exercise module grading imports: the functions
and classes defined at the top level of its code cells, in cell order (a function defined
again in a later cell replaces the earlier one, as running the notebook top to bottom
would), with the imports and small constants they use, and nothing else.

This is what `lossgrade.check(...)` sends from a live notebook (see `notebook_source`):
definitions, the modules and names they use, small constants; never the cells that train,
plot, print or load data, which would run (and fail, or take minutes) in the sandbox, nor
an import nothing graded uses (`import matplotlib.pyplot as plt` for a plot cell).
IPython's own syntax (`%magic`, `!shell`, `%%cell magics`, `name?`) is not Python and is
left out. Nothing here runs the notebook: cells are parsed, never executed.
"""
from __future__ import annotations

import ast
import builtins
import json

from lossgrade.core import notebook_objects

MAX_CELLS = 2000


class NotANotebook(ValueError):
    """The file is not a notebook this can read; the message says why, in a few words."""


def _cell_text(cell: object) -> str | None:
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return None
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) and all(isinstance(s, str) for s in source) else source
    if not isinstance(text, str) or text.lstrip().startswith("%%"):
        return None
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(("%", "!", "?")) and not line.rstrip().endswith("?")]
    return "\n".join(lines)


def _kept(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
    if value is None:
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _used_names(segments: list[str]) -> set[str]:
    """The global names these definitions use, read as the notebook API reads them."""
    used: set[str] = set()
    for segment in segments:
        try:
            used.update(notebook_objects.global_names(segment))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return used


def _binds(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {_bound(a) for a in node.names}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _bound(alias: ast.alias) -> str:
    return alias.asname or alias.name.split(".")[0]


def module_source(data: bytes) -> tuple[str, list[str]]:
    """The module that the notebook's code cells define, and the global names its
    definitions use that the notebook binds otherwise (a tensor computed in a cell, a name
    never defined): those are not sent, and grading will say so when they are reached."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise NotANotebook(f"not JSON: {type(exc).__name__}") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise NotANotebook("no cells")
    kept: list[tuple[ast.stmt, str]] = []  # in cell order, with its source
    skipped: list[str] = []
    for number, cell in enumerate(cells[:MAX_CELLS], start=1):
        text = _cell_text(cell)
        if text is None:
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            skipped.append(f"# cell {number} left out: it does not parse ({type(exc).__name__})")
            continue
        lines = text.splitlines()
        for node in tree.body:
            if _kept(node):
                first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
                kept.append((node, "\n".join(lines[first - 1: node.end_lineno])))
    definitions = [segment for node, segment in kept if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    used = _used_names(definitions)
    used |= _used_names([segment for node, segment in kept if isinstance(node, (ast.Assign, ast.AnnAssign))
                         and _binds(node) & used])
    future: list[str] = []
    body: list[str] = []
    for node, segment in kept:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            future.append(segment)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a for a in node.names if a.name == "*" or _bound(a) in used]
            if names:
                node.names = names
                body.append(ast.unparse(node))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            if _binds(node) & used:
                body.append(segment)
        else:
            body.append(segment)
    bound = set().union(*(_binds(node) for node, _ in kept)) if kept else set()
    unsent = sorted(used - bound - set(dir(builtins)))
    head = "# The definitions in this notebook's code cells, with what they use, as lossgrade grades them."
    return "\n".join([*future, head, *skipped, *body]) + "\n", unsent

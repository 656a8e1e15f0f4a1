"""The walk of one file's syntax tree that applies the scan's rules (`refused.py`).

`Scanner` reads first what the file's names are bound to (sys, torch, numpy, modules, loops
over written-out strings), then checks every node; the body of `if __name__ == "__main__":`,
which never runs where code is graded, is not read. The first line's refusal is kept.
"""
from __future__ import annotations

import ast
import importlib.util
import sys

from lossgrade.sandbox.refused import (ATTRIBUTES, GRADER, LOOKUPS, MODULES, NAMES, PICKLE_KEYWORDS, PRIVATE,
                                       SYS_ALLOWED, TORCH_REFUSED, installed, sys_why)


class Scanner(ast.NodeVisitor):
    """One file's walk: `refusal(tree)` is (line, what, why) of its first refusal, or None."""

    def __init__(self, files: frozenset[str] = frozenset()) -> None:
        self.files = files  # the modules handed in beside this one
        self.unknown = False  # the refusal is of a module that is not there
        self.sys_names: set[str] = set()  # names bound to the module sys
        self.imported: set[str] = set()  # every name an import binds
        self.torch_names: set[str] = set()  # names bound to the module torch itself
        self.numpy_names: set[str] = set()  # names bound to numpy or what it holds
        self.modules: set[str] = set()  # names bound to a module: used only as `module.name`
        self.rooted: set[str] = set()  # names bound to `module.a.b` (an alias of what a module holds)
        self.literal: dict[str, set[str]] = {}  # loop names bound to written-out strings only...
        self.rebound: set[str] = set()  # ...unless bound any other way too
        self.stores: dict[str, int] = {}  # how often each name is bound
        self.constants: dict[str, ast.AST] = {}  # module-level `NAME = value`
        self.found: tuple[int, str, str] | None = None
        self._rank: tuple[int, bool, str] = (0, False, "")

    def refusal(self, tree: ast.AST) -> tuple[int, str, str] | None:
        nodes: list[ast.AST] = []  # every node, each told its parent, in one pass
        stack = [tree]
        while stack:
            node = stack.pop()
            nodes.append(node)
            for child in ast.iter_child_nodes(node):
                child.parent = node  # type: ignore[attr-defined]
                if _is_main_block(node) and child in node.body:  # type: ignore[attr-defined]
                    continue  # never runs where code is graded (a module's __name__ is its own): not read
                stack.append(child)
        for node in nodes:  # names a loop binds to written-out strings only (`for name in ("exp", "log")`)
            self._bind_names(node)
        for node in nodes:  # imports first: a name may be used above its import
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._bind(node)
        for node in nodes:  # then the aliases: `f = torch.nn.functional`
            if isinstance(node, ast.Assign) and _chain_root(node.value) in self.modules:
                self.rooted.update(t.id for t in node.targets if isinstance(t, ast.Name))
        try:
            for node in nodes:
                self._check(node)
        finally:  # the links to parents made every tree a cycle, which only a full collection would free
            for node in nodes:
                for child in ast.iter_child_nodes(node):
                    child.__dict__.pop("parent", None)
        return self.found

    def _bind_names(self, node: ast.AST) -> None:
        if isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Name) \
                and isinstance(node.iter, (ast.Tuple, ast.List, ast.Set)) and node.iter.elts \
                and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.iter.elts):
            self.literal.setdefault(node.target.id, set()).update(e.value for e in node.iter.elts)  # type: ignore
            node.target.literal = True  # type: ignore[attr-defined]
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) and not getattr(node, "literal", False):
            self.rebound.add(node.id)
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            self.stores[node.id] = self.stores.get(node.id, 0) + 1
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                self.stores[name] = self.stores.get(name, 0) + 2  # rebound elsewhere: not a constant
        if isinstance(node, ast.Assign) and isinstance(getattr(node, "parent", None), ast.Module) \
                and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self.constants[node.targets[0].id] = node.value
        elif isinstance(node, ast.arg):
            self.rebound.add(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            self.rebound.update(node.names)
        if _binds_main_name(node):  # what would make `if __name__ == "__main__":` run after all
            self._refuse(node, "a new value for `__name__`",
                         "would run the `if __name__ == \"__main__\":` block, which the grader does not read")

    def _checked_parameter(self, call: ast.Call, name: str) -> set[str] | None:
        """The strings a parameter `name` may hold at `call`, where its function checks it
        against written-out strings first and stops otherwise:

            def f(x, reduction="mean"):
                if reduction not in ("mean", "sum"):   # or a module constant bound once
                    raise ValueError(...)
                return getattr(x, reduction)()

        None where that is not sure: the call in a nested function or lambda (which could
        run before the check), the name rebound anywhere in the function, no such check."""
        statement: ast.AST = call
        while not isinstance(getattr(statement, "parent", None), (ast.FunctionDef, ast.AsyncFunctionDef)):
            statement = getattr(statement, "parent", None)  # type: ignore[assignment]
            if statement is None or isinstance(statement, (ast.Lambda, ast.ClassDef, ast.Module)):
                return None
        function = statement.parent  # type: ignore[attr-defined]
        arguments = function.args
        if name not in {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}:
            return None
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load) \
                    or isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names \
                    or isinstance(node, ast.arg) and node.arg == name and node not in (
                        *arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
                return None
        for before in function.body[:function.body.index(statement)] if statement in function.body else ():
            test = getattr(before, "test", None)
            if isinstance(before, ast.If) and not before.orelse and isinstance(before.body[-1], (ast.Raise, ast.Return)) \
                    and isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotIn) \
                    and isinstance(test.left, ast.Name) and test.left.id == name:
                allowed = self._strings(test.comparators[0])
                if allowed is not None:
                    return allowed
        return None

    def _strings(self, node: ast.AST) -> set[str] | None:
        """The strings a written-out tuple, list, set or dict's keys holds, also through a
        module-level name bound to one once."""
        if isinstance(node, ast.Name) and self.stores.get(node.id) == 1 and node.id in self.constants:
            node = self.constants[node.id]
        items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
        if not isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)) or not items \
                or not all(isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items):
            return None
        return {i.value for i in items}  # type: ignore[union-attr]

    def _is_looked_up(self, node: ast.Name) -> bool:
        """The object of `getattr(module, name[, default])` or `hasattr(module, name)` with a
        name the scan reads like an attribute's (written out, or a loop's written-out strings)."""
        parent = getattr(node, "parent", None)
        if not (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and len(parent.args) >= 2
                and parent.func.id in ("getattr", "hasattr") and parent.args[0] is node):
            return False
        name = parent.args[1]
        return isinstance(name, ast.Constant) and isinstance(name.value, str) \
            or isinstance(name, ast.Name) and name.id in self.literal and name.id not in self.rebound

    def _refuse(self, node: ast.AST, what: str, why: str, unknown: bool = False) -> None:
        line = getattr(node, "lineno", 0)
        rank = (line, what.startswith("an assignment"), what)  # the first line; on it, the most specific reason
        if self.found is None or rank < self._rank:
            self.found, self._rank = (line, what, why), rank
            self.unknown = unknown

    # --- imports ------------------------------------------------------------------------
    def _bind(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            self.imported.add(bound)
            if isinstance(node, ast.Import) or node.level == 0 and _is_module(f"{node.module}.{alias.name}"):
                self.modules.add(bound)
            if isinstance(node, ast.Import) and (alias.name == "sys" or alias.asname is None):
                top = alias.name if alias.asname else alias.name.split(".")[0]
                if top == "sys":
                    self.sys_names.add(bound)
                elif top == "torch":
                    self.torch_names.add(bound)
            if (alias.name if isinstance(node, ast.Import) else node.module or "").split(".")[0] == "numpy":
                self.numpy_names.add(bound)

    def _check_module(self, node: ast.AST, dotted: str, shown: str) -> None:
        parts = dotted.split(".")
        if parts[0] and parts[0] not in self.files and parts[0] not in MODULES and parts[0] not in GRADER \
                and not installed(parts[0]):
            self._refuse(node, f"`{shown}`", f"No module named '{parts[0]}' where your code is graded: it is neither "
                                             "installed there nor one of the files you handed in", unknown=True)
        elif parts[0] in MODULES:
            self._refuse(node, f"`{shown}`", f"imports {parts[0]}, which {MODULES[parts[0]]}")
        elif parts[0] in GRADER:
            self._refuse(node, f"`{shown}`", "imports the grader or the reference solutions; write the code yourself")
        elif parts[0] == "numpy" and any("stride_tricks" in part for part in parts):
            self._refuse(node, f"`{shown}`", f"imports {dotted}, which {ATTRIBUTES['stride_tricks']}")
        elif parts[0] == "torch" and len(parts) > 1 and parts[1] in TORCH_REFUSED:
            self._refuse(node, f"`{shown}`", f"imports {dotted}, which {TORCH_REFUSED[parts[1]]}")
        elif parts[0] == "torch" and len(parts) > 1 and (parts[1].startswith("_") or parts[1] == "library"
                                                           or "serialization" in parts or "cpp_extension" in parts):
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
                    self._refuse(node, f"`from sys import {alias.name}`", sys_why(alias.name))
                elif alias.name in ATTRIBUTES and node.module != "sys":
                    self._refuse(node, f"`from {module} import {alias.name}`", ATTRIBUTES[alias.name])
                elif (node.module or "").split(".")[0] == "torch" and alias.name.startswith("_") \
                        and not alias.name.startswith("__"):
                    self._refuse(node, f"`from {module} import {alias.name}`", PRIVATE)
                elif node.module == "torch" and alias.name in TORCH_REFUSED:
                    self._refuse(node, f"`from torch import {alias.name}`", TORCH_REFUSED[alias.name])
                elif alias.name == "*" and node.module in ("sys", "os", "torch"):
                    self._refuse(node, f"`from {module} import *`", "binds names the source does not show")
        elif isinstance(node, ast.Attribute):
            self._check_attribute(node, node.attr, node.value)
        elif isinstance(node, ast.Name):
            if node.id in NAMES:
                self._refuse(node, f"`{node.id}`", NAMES[node.id])
            elif node.id in LOOKUPS and not _is_called(node):
                # Passed around (`functools.reduce(getattr, names, obj)`, `g = getattr`), it looks
                # up names that no call here shows: only a direct call is read (see _check_call).
                self._refuse(node, f"`{node.id}` as a value, not called",
                             "looks up attributes by a name the source does not show; call it directly, with the "
                             "name written out")
            elif node.id in self.sys_names and not _is_attribute_base(node):
                self._refuse(node, "the module sys itself (not one of its attributes)",
                             "lets code reach sys's tables of modules and hooks; write sys.<name> where you need it")
            elif node.id in self.modules and isinstance(node.ctx, ast.Load) and not _is_attribute_base(node) \
                    and not self._is_looked_up(node):
                self._refuse(node, f"the module {node.id} itself, as a value",
                             f"hands the module to code that may change what it holds for everyone; write "
                             f"{node.id}.<name> where you need it")
        elif isinstance(node, ast.Call):
            self._check_call(node)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            self._check_annotation(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in NAMES:
            self._refuse(node, f"`def {node.name}`", NAMES[node.name])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            self._check_annotation(node.returns)
        elif isinstance(node, ast.AnnAssign):
            self._check_annotation(node.annotation)
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            self._check_target(node.target)  # `for F.cross_entropy in [...]` replaces it too
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            self._check_target(node.optional_vars)
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            value = getattr(node, "value", None)
            if isinstance(value, ast.Constant) and not isinstance(node, ast.AugAssign) \
                    and not any(isinstance(t, ast.Attribute) and t.attr == "__name__" for t in getattr(node, "targets", [])):
                return  # a setting (torch.backends.cudnn.deterministic = True): no code replaced
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                self._check_target(target)

    def _check_annotation(self, annotation: ast.AST) -> None:
        """Text in an annotation is code that typing (and torch.jit) may evaluate: scan it too."""
        for part in ast.walk(annotation):
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                try:
                    inner = ast.parse(part.value.strip(), mode="eval")
                except (SyntaxError, ValueError):
                    self._refuse(part, "an annotation that is not a type", "is text that typing would run as code")
                    continue
                for node in ast.walk(inner):
                    for child in ast.iter_child_nodes(node):
                        child.parent = node  # type: ignore[attr-defined]
                    ast.copy_location(node, part) if hasattr(node, "lineno") else None
                    self._check(node)

    def _check_attribute(self, node: ast.AST, attr: str, value: ast.AST) -> None:
        if isinstance(value, ast.Name) and value.id in self.sys_names:
            if attr not in SYS_ALLOWED:
                self._refuse(node, f"`sys.{attr}`", sys_why(attr))
            return
        if attr in ATTRIBUTES:
            self._refuse(node, f"`.{attr}`", ATTRIBUTES[attr])
        elif attr in ("__getattr__", "__dir__") and _root(value) in self.modules:
            self._refuse(node, f"`.{attr}` of a module", "imports the module's lazy submodules (torch._dynamo...) "
                         "by a name given as text")
        elif "stride_tricks" in attr or attr == "as_strided" and _chain_root(value) in self.numpy_names:
            self._refuse(node, f"`.{attr}`", ATTRIBUTES["stride_tricks"])
        elif isinstance(value, ast.Name) and value.id in self.torch_names and attr.startswith("_") \
                and not attr.startswith("__"):
            self._refuse(node, f"`{value.id}.{attr}`", PRIVATE)
        elif isinstance(value, ast.Name) and value.id in self.torch_names and attr in TORCH_REFUSED:
            self._refuse(node, f"`{value.id}.{attr}`", TORCH_REFUSED[attr])

    def _check_call(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            if keyword.arg in PICKLE_KEYWORDS and not (isinstance(keyword.value, ast.Constant)
                                                       and keyword.value.value is not PICKLE_KEYWORDS[keyword.arg]):
                self._refuse(node, f"`{keyword.arg}={ast.unparse(keyword.value)}`",
                             "unpickles data, which runs code hidden in it (a loss function loads nothing)")
        function = node.func
        if not (isinstance(function, ast.Name) and function.id in ("getattr", "setattr", "delattr")):
            return
        if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
            names = [node.args[1].value]
        elif len(node.args) >= 2 and isinstance(node.args[1], ast.Name) and node.args[1].id in self.literal \
                and node.args[1].id not in self.rebound:
            names = sorted(self.literal[node.args[1].id])  # `for name in ("exp", "log"): getattr(torch, name)`
        elif len(node.args) >= 2 and isinstance(node.args[1], ast.Name) \
                and (checked := self._checked_parameter(node, node.args[1].id)) is not None:
            names = sorted(checked)  # `if reduction not in ("mean", "sum"): raise ...` above it
        else:
            self._refuse(node, f"`{function.id}` with a computed name",
                         "looks up attributes by a name the source does not show; write the name out")
            return
        if not isinstance(node.args[1], ast.Constant) and any(name.startswith("_") for name in names):
            self._refuse(node, f"`{function.id}` with a name that may start with an underscore",
                         "looks up private or special attributes by a name the source does not show directly")
        for name in names:
            self._check_attribute(node, name, node.args[0])
            constant = len(node.args) > 2 and isinstance(node.args[2], ast.Constant)
            if function.id == "delattr" or function.id == "setattr" and not constant or name == "__name__":
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
        elif root in self.imported or root in self.sys_names or root in self.rooted:
            shown = f"{root}...{attr}" if attr else f"{root}[...]"
            self._refuse(node, f"an assignment to `{shown}`",
                         f"changes the module {root} for everyone in the process, the grader's code included")

def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _chain_root(node: ast.AST) -> str | None:
    """`a` for a bare `a.b.c` (no call, no subscript), else None."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_module(dotted: str) -> bool:
    """Whether `from a import b` binds a module, asked of packages the grader has imported
    already (torch, say): nothing is imported for the asking."""
    parent = dotted.rpartition(".")[0]
    if parent.split(".")[0] not in sys.modules:
        return False
    try:
        return importlib.util.find_spec(dotted) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def _mentions_class(node: ast.AST) -> bool:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        if isinstance(node, ast.Attribute) and node.attr == "__class__":
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type":
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _is_main_block(node: ast.AST) -> bool:
    """`if __name__ == "__main__":` at a module's top level."""
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and isinstance(getattr(node, "parent", None), ast.Module) \
        and isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) \
        and {ast.dump(test.left), ast.dump(test.comparators[0])} == {ast.dump(ast.Name("__name__", ast.Load())),
                                                                     ast.dump(ast.Constant("__main__"))}


def _binds_main_name(node: ast.AST) -> bool:
    """A binding of the module's `__name__` in any form, or an import as `__name__`."""
    if isinstance(node, ast.Name):
        return node.id == "__name__" and not isinstance(node.ctx, ast.Load)
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return "__name__" in node.names
    if isinstance(node, ast.alias):
        return node.asname == "__name__" or node.asname is None and node.name == "__name__"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler, ast.MatchAs,
                         ast.MatchStar)):
        return getattr(node, "name", None) == "__name__"
    return False


def _is_called(node: ast.Name) -> bool:
    parent = getattr(node, "parent", None)
    return isinstance(parent, ast.Call) and parent.func is node


def _is_attribute_base(node: ast.Name) -> bool:
    parent = getattr(node, "parent", None)
    return isinstance(parent, ast.Attribute) and parent.value is node

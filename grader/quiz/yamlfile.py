"""Read a YAML file into plain Python values that remember their line numbers.

Quiz files and answer files are written by hand, so every complaint about them must say
where to look. pyyaml's `safe_load` forgets positions and silently keeps the last of two
duplicate keys; composing the node tree ourselves keeps both the lines and the duplicates.

Every scalar stays text (`true`, `2.30` and `tensor(1.)` are all strings here): the schema
decides per field what a value means, so `answer: 2.30` for a "what does this print?"
question keeps its trailing zero instead of becoming the float 2.3.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lossgrade.core.errors import LossgradeError

MAX_BYTES = 1_000_000  # far above any quiz or answers file; a bigger one is a mistake or an attack
MAX_DEPTH = 50  # of [ and {: pyyaml's scanner slows quadratically with it, then overflows the stack
_BRACKETS = re.compile(r"[\[\]{}]")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where it is and how to fix it."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class FileError(LossgradeError):
    """A file that cannot be read as YAML at all; `problem` says where and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class LineMap(dict[str, Any]):
    """A YAML mapping (keys in file order) with the line of itself and of each key."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}
        self.text_lines: dict[str, int] = {}  # where a text value's first line is

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)

    def text_line_of(self, key: str) -> int:
        """The first line of the text under `key`: the line after `key: |` for a block."""
        return self.text_lines.get(key, self.line_of(key))


class LineList(list[Any]):
    """A YAML sequence with the line of itself and of each item."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []


class _Converter:
    """Turns composed nodes into LineMap / LineList / str, noting duplicate keys.

    Answers files come from learners, so an alias (`*name`) is refused rather than expanded:
    expanding shared nodes is how a few lines of YAML grow into gigabytes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.seen: set[int] = set()

    def convert(self, node: yaml.Node) -> Any:
        line = node.start_mark.line + 1
        if id(node) in self.seen:
            message = "the value anchored here is reused with an alias (*name); write it out each time"
            raise FileError(Problem(self.path, line, message))
        self.seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, LineMap(line))
        if isinstance(node, yaml.SequenceNode):
            sequence = LineList(line)
            for item in node.value:
                sequence.append(self.convert(item))
                sequence.lines.append(item.start_mark.line + 1)
            return sequence
        return node.value

    def _mapping(self, node: yaml.MappingNode, mapping: LineMap) -> LineMap:
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Problem(self.path, key_line, "a key must be a plain word, not a list or mapping"))
                continue
            key = key_node.value
            if key in mapping:
                message = f"duplicate key {key!r} (first at line {mapping.lines[key]}); remove one"
                self.problems.append(Problem(self.path, key_line, message))
                continue
            mapping[key] = self.convert(value_node)
            mapping.lines[key] = key_line
            block = getattr(value_node, "style", None) in ("|", ">")
            mapping.text_lines[key] = value_node.start_mark.line + 1 + block
        return mapping


def _flow_depth(text: str) -> int:
    """How deeply brackets nest (quoted or not: a cheap, safe over-estimate)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(text):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def load(path: Path) -> tuple[Any, list[Problem]]:
    """The file's content (None when empty) and its duplicate keys, as problems.

    A file that cannot be read, is larger than MAX_BYTES, is not YAML at all, nests too
    deeply or uses aliases raises FileError naming the file and line, since nothing in it
    can be checked further.
    """
    try:
        if path.stat().st_size > MAX_BYTES:
            raise FileError(Problem(path, 1, f"the file is larger than {MAX_BYTES // 1_000_000} MB"))
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise FileError(Problem(path, 1, f"cannot read the file ({reason})")) from None
    too_deep = FileError(Problem(path, 1, "the YAML nests too deeply to be a quiz or answers file"))
    if _flow_depth(text) > MAX_DEPTH:
        raise too_deep
    converter = _Converter(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = converter.convert(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        message = f"invalid YAML ({problem}); check the indentation and quoting"
        raise FileError(Problem(path, where, message)) from None
    except RecursionError:  # nesting by indentation, which the bracket count does not see
        raise too_deep from None
    return data, converter.problems

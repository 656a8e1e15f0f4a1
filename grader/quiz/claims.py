"""Claims: the course's prose, checked by running torch.

A claim vouches for one fragment of a text (a quiz explanation, a stub's docstring, a
misconception message, a hint): `quote` is the fragment, word for word; `code` is a snippet
whose result proves it; and one expectation says what the snippet must show:

- `value`: the number (or list of numbers) as the quote writes it; each must appear in the
  quote, and the snippet prints as many numbers, each equal to the written one at its shown
  precision (`0.2875` means within 0.00005, `97` within 0.5) unless `tolerance` says more;
- `prints`: the exact printed text (compared without whitespace), e.g. `True`;
- `warns`: a warning category (`UserWarning`; a base class such as `Warning` matches too)
  that the snippet must emit, and no error; `match` optionally names part of the message;
- `raises`: an exception class (`RuntimeError`; a base class matches its subclasses) that
  the snippet must raise; `match` as above;
- `silent: true`: the snippet must run without any warning or error.

So a text reworded without its claim (the quote is gone), a number changed in one place and
not the other, or a torch release that changes the behaviour is reported with its file and
line. Quizzes carry claims beside each question (`claims:`; schema.py); other texts carry
them in a course's `exercises/*.claims.yaml` files, each claim naming the `file` it vouches
for. Snippets run like quiz code (snippets.py): one subprocess, a fresh namespace and a time
limit each.
"""
from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from lossgrade.quiz import snippets, yamlfile
from lossgrade.quiz.yamlfile import FileError, LineList, LineMap, Problem

CLAIM_FIELDS = ("quote", "code", "value", "tolerance", "prints", "warns", "raises", "match", "silent")
FILE_CLAIM_FIELDS = ("file", *CLAIM_FIELDS)
EXPECTATIONS = ("value", "prints", "warns", "raises", "silent")
CLAIMS_FILES = "*.claims.yaml"  # in a course's exercises/ folder
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|-?\binf\b|\bnan\b")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Words:
    """A text with its whitespace collapsed, and the line each word came from."""

    words: tuple[str, ...] = ()
    lines: tuple[int, ...] = ()

    @classmethod
    def of(cls, text: str, first_line: int = 1) -> Words:
        words: list[str] = []
        lines: list[int] = []
        for offset, line in enumerate(normalise(text).split("\n")):
            for word in line.split():
                words.append(word)
                lines.append(first_line + offset)
        return cls(tuple(words), tuple(lines))

    def __add__(self, other: Words) -> Words:
        return Words(self.words + other.words, self.lines + other.lines)

    def find(self, quote: str) -> int | None:
        """The line where `quote` starts in this text (whitespace-insensitive), or None."""
        wanted = " ".join(normalise(quote).split())
        if not wanted:
            return None
        joined = " ".join(self.words)
        at = joined.find(wanted)  # it may begin or end inside a word: "(UserWarning)"
        return self.lines[joined.count(" ", 0, at)] if at >= 0 else None


def normalise(text: str) -> str:
    """Text as a claim compares it: typographic minus and spaces as their plain forms."""
    return text.replace("\u2212", "-").replace("\u00a0", " ").replace("\u202f", " ")


@dataclass(frozen=True)
class Claim:
    """One fragment of a text and the snippet that proves it (see the module docstring)."""

    quote: str
    code: str
    path: Path  # the file the claim is written in
    line: int  # where the claim starts in that file
    code_line: int
    target: str  # what the claim vouches for, in words ("question mse-worked-example")
    text_path: Path  # where the text is (the quiz itself, or the claim's `file`)
    text_line: int | None  # where the quote starts in that text; None when it is not there
    values: tuple[str, ...] = ()
    tolerance: float | None = None
    prints: str | None = None
    warns: str | None = None
    raises: str | None = None
    match: str | None = None
    silent: bool = False

    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Found:
    """Claims read from some files, and the problems met reading them."""

    claims: list[Claim] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _text(entry: LineMap, key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def number_in(quote: str, value: str) -> bool:
    """Whether `value` is written in `quote` as a number of its own (not part of 2.35 or 132)."""
    pattern = rf"(?<![\d.]){re.escape(value)}(?!\d)(?!\.\d)"
    return re.search(pattern, normalise(quote)) is not None


def parse(entry: Any, line: int, path: Path, target: str, text: Words, text_path: Path,
          problems: list[Problem], fields: tuple[str, ...] = CLAIM_FIELDS) -> Claim | None:
    """The claim in one YAML entry, or None (with problems noted) when it cannot be used.
    `text` is the text the claim vouches for; its quote must be in it."""
    def problem(at: int, message: str) -> None:
        problems.append(Problem(path, at, f"{target}: {message}"))

    if not isinstance(entry, LineMap):
        problem(line, "a claim must be a mapping with quote, code and one of " + ", ".join(EXPECTATIONS))
        return None
    for key in entry:
        if key not in fields:
            problem(entry.line_of(key), f"unknown claim field {key!r}; expected one of {', '.join(fields)}")
    quote, code = _text(entry, "quote"), _text(entry, "code")
    if not quote or not quote.strip():
        problem(entry.line, "a claim needs `quote:`, the words of the text it vouches for")
        return None
    if not code or not code.strip():
        problem(entry.line, "a claim needs `code:`, a snippet whose result proves the quote")
        return None
    given = [key for key in EXPECTATIONS if key in entry]
    if len(given) != 1:
        problem(entry.line, f"a claim needs exactly one of {', '.join(EXPECTATIONS)}"
                + (f", not {' and '.join(given)}" if given else ""))
        return None
    raw_values = entry.get("value")
    values: tuple[str, ...] = ()
    if raw_values is not None:
        items = raw_values if isinstance(raw_values, LineList) else [raw_values]
        values = tuple(str(v).strip() for v in items)
        if not values:
            problem(entry.line_of("value"), "`value:` needs at least one number, as the quote writes it")
            return None
        for value in values:
            if not isinstance(value, str) or not _NUMBER.fullmatch(value):
                problem(entry.line_of("value"), f"value {value!r} is not a number as the text writes it (e.g. 0.2875)")
                return None
            if not number_in(quote, value):
                problem(entry.line_of("value"), f"the value {value} is not written in the quote; quote the words that state it")
    tolerance = None
    if "tolerance" in entry:
        try:
            tolerance = float(str(entry["tolerance"]))
        except ValueError:
            tolerance = math.nan
        if not tolerance >= 0 or not values:
            problem(entry.line_of("tolerance"), "`tolerance:` is a number >= 0, for a claim with `value:`")
            return None
    for key in ("prints", "warns", "raises", "match"):
        if key in entry and not (_text(entry, key) or "").strip():
            problem(entry.line_of(key), f"`{key}:` must be text")
            return None
    for key in ("warns", "raises"):
        name = (_text(entry, key) or "").strip()
        if name and not _NAME.fullmatch(name):
            problem(entry.line_of(key), f"`{key}:` names a class, such as UserWarning or RuntimeError")
            return None
    if "match" in entry and not ("warns" in entry or "raises" in entry):
        problem(entry.line_of("match"), "`match:` goes with `warns:` or `raises:`")
        return None
    silent = entry.get("silent")
    if silent is not None and silent not in ("true", "yes"):
        problem(entry.line_of("silent"), "`silent:` takes true (the code must run without a warning or an error)")
        return None
    text_line = text.find(quote)
    if text_line is None:
        problem(entry.line_of("quote"), f"the quote {quote.strip()!r} is not in {target}'s text any more; "
                "update the claim with the text it vouches for")
    return Claim(
        quote=" ".join(normalise(quote).split()), code=code, path=path, line=entry.line,
        code_line=entry.text_line_of("code"), target=target, text_path=text_path, text_line=text_line,
        values=values, tolerance=tolerance, prints=_text(entry, "prints"), warns=_text(entry, "warns"),
        raises=_text(entry, "raises"), match=_text(entry, "match"), silent=silent is not None,
    )


def parse_list(raw: Any, line: int, path: Path, target: str, text: Words, problems: list[Problem]) -> list[Claim]:
    """The claims of a `claims:` list (a quiz's or a question's)."""
    if raw is None:
        return []
    if not isinstance(raw, LineList):
        problems.append(Problem(path, line, f"{target}: `claims:` must be a list of claims"))
        return []
    found = [parse(entry, at, path, target, text, path, problems) for entry, at in zip(raw, raw.lines)]
    return [claim for claim in found if claim is not None]


# --- checking a claim against what its snippet did ------------------------------------------
def _precision(written: str) -> float:
    """Half a unit of the last digit shown: 0.2875 -> 0.00005, 97 -> 0.5, 1e4 -> 0.5."""
    mantissa, _, exponent = written.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals) * (10.0 ** int(exponent) if exponent and decimals else 1.0)


def _same_number(written: str, printed: str, tolerance: float | None) -> bool:
    want, got = float(written), float(printed)
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if math.isinf(want) or math.isinf(got):
        return want == got
    allowed = tolerance if tolerance is not None else _precision(written)
    return abs(got - want) <= allowed + 1e-9 * max(1.0, abs(want))


def _kinds(run: snippets.Run) -> str:
    kinds = sorted({w[0][0] for w in run.warnings if w[0]})
    return ", ".join(kinds) if kinds else "no warning"


def disagreement(claim: Claim, run: snippets.Run) -> str | None:
    """Why what the claim's snippet did contradicts the claim, or None when it proves it."""
    if claim.raises:
        if run.error is None:
            return f"the code raises no {claim.raises}, but the text says it does"
        if claim.raises not in run.error_types or (claim.match and claim.match not in run.error):
            return f"the code raises {run.error}, not the {claim.raises}{_matching(claim)} the text names"
        return None
    if run.error is not None and claim.silent:
        return f"the text says this runs without an error, but the code raises {run.error}"
    if run.error is not None:
        at = f" at line {run.line} of its code" if run.line else ""
        return f"the claim's code failed{at}: {run.error}"
    if claim.warns:
        if not any(claim.warns in names and (not claim.match or claim.match in message)
                   for names, message in run.warnings):
            return f"the code emits {_kinds(run)}, not the {claim.warns}{_matching(claim)} the text names"
        return None
    if claim.silent:
        if run.warnings:
            names, message = run.warnings[0]
            return f"the text says this runs silently, but the code warns: {names[0]}: {message}"
        return None
    printed = run.output.strip()
    if claim.prints is not None:
        if "".join(printed.split()) != "".join(claim.prints.split()):
            return f"the code prints {printed!r}, but the claim expects {claim.prints.strip()!r}"
        return None
    numbers = _NUMBER.findall(printed)
    if len(numbers) != len(claim.values):
        return (f"the code must print {len(claim.values)} number(s), one for each value of the claim, "
                f"but it prints {printed!r}")
    wrong = [(w, p) for w, p in zip(claim.values, numbers) if not _same_number(w, p, claim.tolerance)]
    if wrong:
        said = ", ".join(w for w, _ in wrong)
        got = ", ".join(p for _, p in wrong)
        return f"the text says {said}, but the code gives {got}; fix the text (or the claim)"
    return None


def _matching(claim: Claim) -> str:
    return f" (matching {claim.match!r})" if claim.match else ""


def check(claims: list[Claim], runs: list[snippets.Run] | None = None) -> list[Problem]:
    """Run every claim's snippet (one subprocess for all, unless `runs` are given) and
    report each claim that its snippet contradicts, at the line of the text it vouches for."""
    ready = [c for c in claims if c.text_line is not None]
    if runs is None:
        runs = snippets.run_all([c.code for c in ready])
    problems = []
    for claim, run in zip(ready, runs):
        reason = disagreement(claim, run)
        if reason is None:
            continue
        if run.error is not None and not (claim.raises or claim.silent) and run.line:  # a broken claim
            problems.append(Problem(claim.path, claim.code_line + run.line - 1, f"{claim.target}: {reason}"))
        elif claim.text_path == claim.path:
            problems.append(Problem(claim.path, claim.line, f"{claim.target}: {claim.quote!r}: {reason}"))
        else:
            line = claim.text_line or 1
            problems.append(Problem(claim.text_path, line,
                                    f"{claim.quote!r}: {reason} (claim at {claim.where()})"))
    return problems


# --- claims files: exercises/*.claims.yaml ----------------------------------------------------
def package_root() -> Path:
    """Where the built-in course's checks, misconceptions and reports live."""
    return Path(str(resources.files("lossgrade")))


def python_text(path: Path) -> Words:
    """The prose of a Python file: every string it writes (docstrings, messages, hints),
    implicit concatenations joined, each word with its line."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    text = Words()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = text + Words.of(node.value, node.lineno) + Words(("\u2029",), (node.lineno,))
    return text


def text_of(path: Path) -> Words:
    """The words of a file a claim vouches for: a Python file's strings, any other file whole."""
    if path.suffix == ".py":
        return python_text(path)
    return Words.of(path.read_text(encoding="utf-8"))


def resolve(root: Path, name: str, builtin: bool) -> Path | None:
    """The file a claim's `file:` names: under the course folder (and, for the built-in
    course, under the lossgrade package: checks/, misconceptions/, output/)."""
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts:
        return None
    for base in (root, package_root()) if builtin else (root,):
        if (base / relative).is_file():
            return base / relative
    return None


def claims_files(root: Path) -> list[Path]:
    return sorted((root / "exercises").glob(CLAIMS_FILES))


def read_file_claims(path: Path, root: Path, builtin: bool) -> Found:
    """The claims of one claims file (`schema: 1` and a `claims:` list, each with `file:`)."""
    found = Found()
    try:
        data, found.problems = yamlfile.load(path)
    except FileError as exc:
        found.problems.append(exc.problem)
        return found
    if not isinstance(data, LineMap) or not isinstance(data.get("claims"), LineList):
        found.problems.append(Problem(path, 1, "a claims file is a mapping with `schema: 1` and a `claims:` list"))
        return found
    for key in data:
        if key not in ("schema", "claims"):
            found.problems.append(Problem(path, data.line_of(key), f"unknown field {key!r}; expected schema, claims"))
    if data.get("schema") != "1":
        found.problems.append(Problem(path, data.line_of("schema"), "expected `schema: 1`"))
    texts: dict[Path, Words] = {}
    raw = data["claims"]
    for number, (entry, line) in enumerate(zip(raw, raw.lines), start=1):
        name = entry.get("file") if isinstance(entry, LineMap) else None
        if not isinstance(name, str) or not name.strip():
            found.problems.append(Problem(path, line, f"claim {number} needs `file:`, the course file it vouches for"))
            continue
        target = resolve(root, name.strip(), builtin)
        if target is None:
            found.problems.append(Problem(path, entry.line_of("file"), f"claim {number}: no file {name!r} in the course"))
            continue
        if target not in texts:
            try:
                texts[target] = text_of(target)
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
                found.problems.append(Problem(path, entry.line_of("file"), f"claim {number}: cannot read {name}: {exc}"))
                continue
        claim = parse(entry, line, path, f"claim {number} ({name.strip()})", texts[target], target,
                      found.problems, FILE_CLAIM_FIELDS)
        if claim is not None:
            found.claims.append(claim)
    return found


def read_course(root: Path, builtin: bool) -> Found:
    """Every claim of a course folder's claims files."""
    found = Found()
    for path in claims_files(root):
        one = read_file_claims(path, root, builtin)
        found.claims.extend(one.claims)
        found.problems.extend(one.problems)
    return found


def check_course(root: Path, builtin: bool) -> tuple[list[Problem], int]:
    """Read and run the claims files of a course folder: (problems, how many claims ran)."""
    found = read_course(root, builtin)
    return found.problems + check(found.claims), len(found.claims)

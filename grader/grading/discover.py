"""Find a class's submissions and read, from each, the files that grading needs.

SUBMISSIONS holds one folder or `.zip` per learner, named by the learner's id, or what an
LMS's bulk download holds (Canvas, Moodle, Gradescope, GitHub Classroom: how each names
its files and its learners is `lms.py`).

Inside a submission, every file is either graded or reported with the reason (the
submission's `ignored`). Exercise files are recognised by name, forgiving what browsers
and learners do to names (`Ex01_MSE.py`, `ex01_mse (1).py`, `ex01_mse-1.py`, a bare
`ex01.py`), and otherwise by content: a `.py` or a notebook (`.ipynb`, its code cells'
functions) that defines an exercise's functions. Two different files that fit one
exercise equally well are reported as ambiguous and that exercise is not graded: nothing
is guessed. Wrapper folders (`alice.zip` holding `alice/exercises/...`) are looked through.

Nothing is extracted to disk: a zip's members are read into memory, only the few that
matter, each capped in size. A zip that is corrupt, encrypted, holds a path escaping its
folder (`../x`, `/etc/x`) or declares more than the size limit is not graded, with a
one-line reason; so is a learner id claimed twice (`alice/` and `alice.zip`). Neither stops
the rest of the class.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lossgrade.course import catalog
from lossgrade.grading import notebooks
from lossgrade.grading.lms import GRADESCOPE_METADATA, Part, github_classroom, gradescope_ids, lms_name, name_lms_learners
from lossgrade.grading.trees import (FolderTree, Limits, LooseFile, Merged, Tree, Unreadable, ZipTree, junk, junk_part,
                                     printable, size, unwrap)
from lossgrade.core.results import SubmissionResult

QUIZ_ANSWERS = "quiz-answers.yaml"


@dataclass
class Submission:
    learner: str
    source: str  # as named in SUBMISSIONS: "alice/" or "alice.zip"
    files: dict[str, bytes] = field(default_factory=dict)  # "ex01_mse.py" -> content
    rejected: dict[str, str] = field(default_factory=dict)  # file name -> why it was not read
    problem: str | None = None  # why nothing of it can be graded
    notes: list[str] = field(default_factory=list)  # graded anyway, but worth a look
    ignored: dict[str, str] = field(default_factory=dict)  # a file of the submission -> why it was not graded
    origins: dict[str, str] = field(default_factory=dict)  # "ex01_mse.py" -> the file it was read from
    todo: tuple[str, ...] | None = None  # the exercises to grade now (None: every one asked for)
    previous: SubmissionResult | None = None  # an earlier run's results, kept for the exercises not in `todo`
    previous_inputs: dict[str, str] = field(default_factory=dict)  # their input digests, kept with them

    @property
    def digest(self) -> str:
        """Changes exactly when what grading would see changes."""
        content = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(self.files.items())}
        key = json.dumps([self.learner, content, self.rejected, self.problem], sort_keys=True)
        return hashlib.sha256(key.encode("utf-8", "backslashreplace")).hexdigest()


@dataclass
class Discovery:
    submissions: list[Submission]
    ignored: list[str]  # entries of SUBMISSIONS that are no submission
    notes: list[str] = field(default_factory=list)  # how the class folder was read (an LMS's layout)


def relevant_names() -> tuple[str, ...]:
    return (*(e.file for e in catalog.exercises()), QUIZ_ANSWERS)


def discover(root: Path, exclude: Path | None = None, limits: Limits = Limits(),
             keep: Callable[[str], bool] | None = None) -> Discovery:
    """Every submission in `root`, sorted by learner id; with `keep`, only the learners it
    keeps (a shard's: an entry that is no submission counts as the id of its name), named
    as every shard names them and picked before any of their files is read."""
    claimed: dict[str, list[Part]] = {}
    ignored: list[str] = []
    notes: list[str] = []
    skip = exclude.resolve() if exclude else None
    gradescope = gradescope_ids(root)
    if gradescope:
        notes.append(f"a Gradescope export: learners named by {GRADESCOPE_METADATA} (sid, else email)")
    lms_ids: dict[str, set[str]] = {}  # an LMS learner name -> the user ids that carry it
    unprintable: set[str] = set()
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        name = entry.name
        if name.startswith(".") or (skip and Path(entry.path).resolve() == skip):
            continue
        if gradescope and name == GRADESCOPE_METADATA:
            continue
        is_dir = entry.is_dir()
        is_zip = entry.is_file() and name.lower().endswith(".zip")
        lms = lms_name(name, entry.is_file())
        if lms:
            person, uid, inner, kind_of = lms
            learner = f"{person}\0{uid}"
            lms_ids.setdefault(person, set()).add(uid)
            kind = "folder" if is_dir else "zip" if is_zip else "file"
            part = Part(Path(entry.path), printable(name) + ("/" if is_dir else ""), kind, inner, kind_of)
        elif is_dir or is_zip:
            stem = name[:-4] if is_zip else name
            learner = gradescope.get(stem, stem)
            if printable(learner) != learner:
                unprintable.add(printable(learner))
            part = Part(Path(entry.path), printable(name) + ("/" if is_dir else ""), "folder" if is_dir else "zip",
                         lms="gradescope" if stem in gradescope else "")
        else:
            if keep is None or keep(printable(name)):  # reported by one shard only
                ignored.append(printable(name))
            continue
        claimed.setdefault(learner, []).append(part)
    named = name_lms_learners(claimed, lms_ids)
    named = github_classroom(named, notes)
    if keep is not None:  # another shard's learners: not even read
        named = {learner: parts for learner, parts in named.items() if keep(learner)}
    submissions = [_read(learner, parts, limits, learner in unprintable) for learner, parts in sorted(named.items())]
    if any(p.lms in ("canvas", "moodle") for parts in named.values() for p in parts):
        kinds = sorted({p.lms.capitalize() for parts in named.values() for p in parts if p.lms in ("canvas", "moodle")})
        notes.append(f"a {' and '.join(kinds)} bulk download: each learner's files gathered by name and id")
    return Discovery(submissions, ignored, notes)


def _read(learner: str, parts: list[Part], limits: Limits, renamed: bool = False) -> Submission:
    sources = " and ".join(p.display for p in parts) if len(parts) <= 3 else f"{parts[0].display} and {len(parts) - 1} more"
    if len(parts) > 1 and any(p.lms not in ("canvas", "moodle") for p in parts):  # only an LMS's pieces are gathered
        return Submission(learner, sources, problem=f"{sources} both claim the learner id {learner!r}: keep one and grade again")
    submission = Submission(learner, sources)
    if renamed:
        submission.notes.append(f"the name {sources} is not plain UTF-8 text: graded as {learner!r}")
    trees: list[Tree] = []
    try:
        for part in parts:
            if part.kind == "folder":
                trees.append(FolderTree(part.path, limits))
            elif part.kind == "zip":
                trees.append(ZipTree(part.path, limits))
            else:
                trees.append(LooseFile(part.path, part.inner))
        tree = trees[0] if len(trees) == 1 else Merged(trees, [p.display for p in parts])
        _select(submission, tree, limits)
    except Unreadable as exc:
        submission.problem = str(exc)
    finally:
        for opened in trees:
            opened.close()
    return submission


def read_one(folder: Path, learner: str, limits: Limits = Limits()) -> Submission:
    """The submission in `folder` (as Gradescope lays one out); a lone .zip in it is read
    instead when the folder holds no exercise file of its own."""
    submission = Submission(learner, printable(folder.name) + "/")
    tree: Tree | None = None
    try:
        tree = FolderTree(folder, limits)
        zips = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".zip"]
        if len(zips) == 1 and not any(_name_match(path.rpartition("/")[2]) for path in tree.entries):
            tree = ZipTree(zips[0], limits)
        _select(submission, tree, limits)
    except Unreadable as exc:
        submission.problem = str(exc)
    finally:
        if tree is not None:
            tree.close()
    return submission


def looks_like_one_submission(root: Path) -> bool:
    """True when `root` holds exercise files itself (at its top or in exercises/) and no
    other folder or zip: one learner's folder given instead of the class's. (A stray
    exercise file beside learners' folders is only an entry that is no submission.)"""
    try:
        entries = [e for e in os.scandir(root) if not e.name.startswith(".")]
        names = [e.name for e in entries if e.is_file()]
        inner = root / "exercises"
        if inner.is_dir():
            names += [e.name for e in os.scandir(inner) if e.is_file()]
    except OSError:
        return False
    others = [e for e in entries if e.name != "exercises" and (e.is_dir() or e.name.lower().endswith(".zip"))]
    return not others and any(_name_match(name) and not lms_name(name, True) for name in names)


NOT_COURSEWORK = "not an exercise file or quiz answers"
HIDDEN = "hidden or system files (version control, editor and OS metadata): not coursework"


# ------------------------------------------------------------------------- selection
DUPLICATE = re.compile(r"(?:\s*\(\d+\)|-\d+|\s+copy(?:\s*\d+)?|\s*-\s*copy(?:\s*\(\d+\))?)+$", re.IGNORECASE)
NUMBERED = re.compile(r"^ex0*(\d+)(?:_(.*))?$")
CODE_SUFFIXES = (".py", ".ipynb")


def _stem(name: str) -> tuple[str, str]:
    """(a name's normal form, its suffix): lowercase, an LMS prefix and a duplicate suffix
    (` (1)`, `-1`, ` copy`) removed, spaces and dashes read as underscores."""
    base, dot, suffix = name.rpartition(".")
    if not dot:
        base, suffix = name, ""
    lms = lms_name(base, True)
    if lms and lms[2]:
        base = lms[2]
    base = DUPLICATE.sub("", base)
    return re.sub(r"[\s\-]+", "_", base.strip()).casefold(), suffix.casefold()


def _name_match(name: str) -> tuple[str, int] | None:
    """(the canonical name, how well it fits: 0 the name itself, forgivingly read; 1 a bare
    `ex01`; 2 the exercise's number with other words) for a file named like an exercise
    file or the answers file."""
    stem, suffix = _stem(name)
    if suffix in ("yaml", "yml") and stem.replace("_", "") in ("quizanswers", "answers", "quiz"):
        return QUIZ_ANSWERS, 0 if stem == "quiz_answers" else 1
    if "." + suffix not in CODE_SUFFIXES:
        return None
    numbered = NUMBERED.match(stem)
    for exercise in catalog.exercises():
        if stem == exercise.module.casefold():
            return exercise.file, 0
        if numbered and f"ex{int(numbered[1]):02d}" == exercise.id.casefold():
            rest = numbered[2]
            return exercise.file, 1 if not rest else 0 if rest == exercise.name.casefold() else 2
    return None


@dataclass
class _Candidate:
    path: str  # in the submission
    data: bytes
    rank: tuple[int, int, int]  # (how the name fits, .py before .ipynb, where it lies); lower is better


def _location(path: str, root: str) -> int:
    folder = path.rpartition("/")[0] + "/" if "/" in path else ""
    return 0 if folder == root else 1 if folder == f"{root}exercises/" else 2


def _select(submission: Submission, tree: Tree, limits: Limits) -> None:
    """Read the exercise files and answers file, wherever and however named in the
    submission; report every other file with the reason it is not graded."""
    entries = {path: e for path, e in tree.entries.items() if not any(junk(p) for p in path.split("/"))}
    root = unwrap(entries)
    hidden = sorted({junk_part(path) for path in tree.entries if path not in entries})
    if hidden:
        count = sum(path not in entries for path in tree.entries)
        shown = ", ".join(printable(h) for h in hidden[:3]) + (" ..." if len(hidden) > 3 else "")
        submission.ignored[f"{count} hidden or system files ({shown})"] = HIDDEN
    candidates: dict[str, list[_Candidate]] = {}
    by_content: list[tuple[str, bytes]] = []
    budget = limits.zip_bytes  # what is read of one submission in all (a folder has no zip's own limit)
    for path in sorted(entries, key=lambda p: (_name_match(p.rpartition("/")[2]) is None, p)):  # named ones read first
        entry = entries[path]
        shown = printable(path.removeprefix(root))
        name = path.rpartition("/")[2]
        match = _name_match(name)
        is_code = name.casefold().endswith(CODE_SUFFIXES)
        if not match and not is_code:
            submission.ignored[shown] = NOT_COURSEWORK
            continue
        if entry.link:
            submission.ignored[shown] = "a symbolic link, not graded: submit the file itself"
            if match and match[1] == 0 and name == match[0]:
                submission.rejected[match[0]] = f"{match[0]} is a symbolic link, not graded: submit the file itself"
            continue
        if budget < min(entry.size, limits.file_bytes):
            submission.ignored[shown] = f"not read: the submission's files pass {size(limits.zip_bytes)} in all"
            continue
        data = entry.read(limits.file_bytes + 1)
        budget -= len(data)
        if len(data) > limits.file_bytes:
            submission.ignored[shown] = f"larger than {size(limits.file_bytes)}"
            if match and name == match[0]:
                submission.rejected[match[0]] = f"{match[0]} is larger than {size(limits.file_bytes)}: not graded"
            continue
        if name.casefold().endswith(".ipynb"):
            try:
                text, unsent = notebooks.module_source(data)
            except notebooks.NotANotebook as exc:
                submission.ignored[shown] = f"not a readable notebook ({exc})"
                continue
            data = text.encode("utf-8")
            if unsent:
                submission.notes.append(f"{shown}: its functions use {', '.join(unsent[:5])}, which its cells compute "
                                        "rather than define (def, import or a small constant): not graded with them")
        if match:
            rank = (match[1], int(name.casefold().endswith(".ipynb")), _location(path, root))
            candidates.setdefault(match[0], []).append(_Candidate(shown, data, rank))
        else:
            by_content.append((shown, data))
    for shown, data in by_content:
        defines = _defined_exercises(data)
        if isinstance(defines, str):
            submission.ignored[shown] = defines
            continue
        for file in defines:
            candidates.setdefault(file, []).append(_Candidate(shown, data, (3, int(shown.casefold().endswith(".ipynb")), 0)))
    for name in relevant_names():
        if name in submission.rejected or name not in candidates:
            continue
        _choose(submission, name, candidates[name])
    submission.notes.extend(submission.rejected.values())


def _choose(submission: Submission, name: str, found: list[_Candidate]) -> None:
    found.sort(key=lambda c: (c.rank, c.path.rpartition("/")[2] != name))  # the exact name first among equals
    best = [c for c in found if c.rank == found[0].rank]
    if len({c.data for c in best}) > 1:
        shown = " and ".join(repr(c.path) for c in best[:3])
        submission.rejected[name] = (f"ambiguous: {shown} {'both' if len(best) == 2 else 'all'} fit {name}, with different contents; "
                                     "not graded: keep one and grade again")
        for candidate in best:
            submission.ignored[candidate.path] = f"one of {len(best)} different files for {name}: ambiguous"
        return
    chosen = best[0]
    submission.files[name] = chosen.data
    if chosen.path.rpartition("/")[2] != name or chosen.rank[2] > 1:
        submission.origins[name] = chosen.path
        if chosen.path.rpartition("/")[2] == name:
            where = chosen.path.rpartition("/")[0]
            submission.notes.append(f"graded {chosen.path}: found in {where}/, not at the top level or in exercises/")
        else:
            how = "its functions" if chosen.rank[0] == 3 else "its name"
            submission.notes.append(f"graded {chosen.path} as {name} (by {how})")
    for other in found:
        if other is not chosen and other.path not in submission.origins.values():
            same = " (the same content)" if other.data == chosen.data else ""
            submission.ignored.setdefault(other.path, f"{chosen.path} was graded as {name} instead{same}")


def _defined_exercises(data: bytes) -> list[str] | str:
    """The exercise files whose functions this code defines at its top level, or why it
    fits none."""
    import ast

    try:
        tree = ast.parse(data.decode("utf-8", errors="replace"))
    except (SyntaxError, ValueError) as exc:
        return f"its name fits no exercise and it does not parse ({type(exc).__name__}: line {getattr(exc, 'lineno', '?')})"
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    files = [e.file for e in catalog.exercises() if defined & set(e.functions)]
    return files or "its name fits no exercise and it defines none of the exercises' functions"

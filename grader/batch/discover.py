"""Find a class's submissions and read, from each, the files that grading needs.

SUBMISSIONS holds one folder or `.zip` per learner, named by the learner's id. Inside, the
exercise files and `quiz-answers.yaml` sit at the top level or under `exercises/`; wrapper
folders (`alice.zip` holding `alice/exercises/...`, as LMS downloads often are) are looked
through, and files that all sit in one other folder are found there, with a note.

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
import stat
import zipfile
import zlib
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from lossgrade import catalog

QUIZ_ANSWERS = "quiz-answers.yaml"
JUNK = ("__MACOSX", "__pycache__", "node_modules")  # besides hidden names (".git", ".DS_Store")
MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 1 * MIB  # one exercise file or answers file
    zip_bytes: int = 64 * MIB  # everything a zip declares it expands to
    entries: int = 5000  # members of a zip, or files looked at in a folder
    depth: int = 6  # folder levels looked into


@dataclass
class Submission:
    learner: str
    source: str  # as named in SUBMISSIONS: "alice/" or "alice.zip"
    files: dict[str, bytes] = field(default_factory=dict)  # "ex01_mse.py" -> content
    rejected: dict[str, str] = field(default_factory=dict)  # file name -> why it was not read
    problem: str | None = None  # why nothing of it can be graded
    notes: list[str] = field(default_factory=list)  # graded anyway, but worth a look

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


class Unreadable(Exception):
    """This submission cannot be graded; the message says why, in a line."""


def relevant_names() -> tuple[str, ...]:
    return (*(e.file for e in catalog.exercises()), QUIZ_ANSWERS)


def printable(name: str) -> str:
    """A file name as text that any file, terminal or JSON can hold, on one line: bytes
    that are not UTF-8 (they arrive from os.listdir as surrogates) and control characters
    are shown escaped, as \\xNN."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def discover(root: Path, exclude: Path | None = None, limits: Limits = Limits(),
             keep: Callable[[str], bool] | None = None) -> Discovery:
    """Every submission in `root`, sorted by learner id; with `keep`, only the entries whose
    learner id it keeps (an entry that is no submission counts as the id of its name)."""
    claimed: dict[str, list[Submission]] = {}
    ignored = []
    skip = exclude.resolve() if exclude else None
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        name = entry.name
        if name.startswith(".") or (skip and Path(entry.path).resolve() == skip):
            continue
        is_zip = entry.is_file() and name.lower().endswith(".zip")
        if keep is not None and not keep(printable(name[:-4] if is_zip else name)):
            continue  # another shard's learner: not even read
        if not (entry.is_dir() or is_zip):
            ignored.append(printable(name))
            continue
        stem = name[:-4] if is_zip else name
        learner = printable(stem)
        submission = Submission(learner, printable(name) + ("" if is_zip else "/"))
        if learner != stem:
            submission.notes.append(f"the name {submission.source} is not plain UTF-8 text: graded as {learner!r}")
        try:
            tree = _ZipTree(Path(entry.path), limits) if is_zip else _FolderTree(Path(entry.path), limits)
            with closing(tree):
                _select(submission, tree, limits)
        except Unreadable as exc:
            submission.problem = str(exc)
        claimed.setdefault(learner, []).append(submission)
    submissions = [_one_per_learner(learner, found) for learner, found in sorted(claimed.items())]
    return Discovery(submissions, ignored)


def read_one(folder: Path, learner: str, limits: Limits = Limits()) -> Submission:
    """The submission in `folder` (as Gradescope lays one out); a lone .zip in it is read
    instead when the folder holds no exercise file of its own."""
    submission = Submission(learner, printable(folder.name) + "/")
    try:
        tree: _Tree = _FolderTree(folder, limits)
        zips = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".zip"]
        if len(zips) == 1 and not any(path.rpartition("/")[2] in relevant_names() for path in tree.entries):
            tree = _ZipTree(zips[0], limits)
        with closing(tree):
            _select(submission, tree, limits)
    except Unreadable as exc:
        submission.problem = str(exc)
    return submission


def _one_per_learner(learner: str, found: list[Submission]) -> Submission:
    if len(found) == 1:
        return found[0]
    sources = " and ".join(s.source for s in found)
    return Submission(learner, sources, problem=f"{sources} both claim the learner id {learner!r}: keep one and grade again")


# --------------------------------------------------------------------------- the trees
@dataclass
class _Entry:
    size: int
    read: Callable[[int], bytes]  # read(at_most) -> bytes
    link: bool = False


class _Tree:
    entries: dict[str, _Entry]

    def close(self) -> None:
        pass


class _FolderTree(_Tree):
    """A learner's folder, listed without following links or reading special files."""

    def __init__(self, top: Path, limits: Limits) -> None:
        self.entries = {}
        seen = 0
        for folder, dirs, files in os.walk(top):
            depth = len(Path(folder).relative_to(top).parts)
            dirs[:] = sorted(d for d in dirs if not _junk(d)) if depth < limits.depth else []
            for name in sorted(files):
                seen += 1
                if seen > limits.entries:
                    raise Unreadable(f"it holds more than {limits.entries} files; remove what is not coursework")
                path = os.path.join(folder, name)
                info = os.lstat(path)
                if stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
                    relative = Path(path).relative_to(top).as_posix()
                    self.entries[relative] = _Entry(info.st_size, _file_reader(path), stat.S_ISLNK(info.st_mode))


def _file_reader(path: str) -> Callable[[int], bytes]:
    def read(at_most: int) -> bytes:
        with open(path, "rb") as handle:
            return handle.read(at_most)

    return read


class _ZipTree(_Tree):
    """A zip's members, checked before anything is read: a valid archive, no path that
    leaves the folder, no more than the limits."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.entries = {}
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise Unreadable(f"{path.name} is not a readable zip file ({exc}); ask for it again") from None
        try:
            self._check(path.name, self.archive.infolist(), limits)
        except Unreadable:
            self.archive.close()
            raise

    def _check(self, zip_name: str, members: list[zipfile.ZipInfo], limits: Limits) -> None:
        if len(members) > limits.entries:
            raise Unreadable(f"{zip_name} holds {len(members)} entries, more than the {limits.entries} allowed")
        declared = sum(m.file_size for m in members)
        if declared > limits.zip_bytes:
            raise Unreadable(f"{zip_name} expands to {_size(declared)}, more than the {_size(limits.zip_bytes)} allowed")
        for member in members:
            name = member.filename.replace("\\", "/")
            if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in name.split("/"):
                raise Unreadable(f"{zip_name} holds a path that leaves its folder ({printable(member.filename)!r}); not graded")
            if not member.is_dir():
                link = stat.S_ISLNK(member.external_attr >> 16)
                self.entries[name] = _Entry(member.file_size, _member_reader(self.archive, member, zip_name), link)

    def close(self) -> None:
        self.archive.close()


def _member_reader(archive: zipfile.ZipFile, member: zipfile.ZipInfo, zip_name: str) -> Callable[[int], bytes]:
    def read(at_most: int) -> bytes:
        try:
            with archive.open(member) as handle:
                return handle.read(at_most)
        except RuntimeError as exc:  # encrypted
            raise Unreadable(f"{zip_name} is encrypted ({exc}); ask for it without a password") from None
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError) as exc:
            raise Unreadable(f"{zip_name} is damaged: {member.filename} cannot be read ({exc})") from None

    return read


def _size(count: int) -> str:
    return f"{count / MIB:.0f} MiB" if count >= MIB else f"{count / 1024:.0f} KiB"


def _junk(name: str) -> bool:
    return name.startswith(".") or name in JUNK


# ------------------------------------------------------------------------- selection
def _select(submission: Submission, tree: _Tree, limits: Limits) -> None:
    """Read the exercise files and answers file from where the submission keeps them."""
    entries = {path: e for path, e in tree.entries.items() if not any(_junk(p) for p in path.split("/"))}
    root = _unwrap(entries)
    wanted = relevant_names()
    places = {name: [f"{root}{name}", f"{root}exercises/{name}"] for name in wanted}
    if not any(place in entries for options in places.values() for place in options):
        elsewhere = sorted({path.rpartition("/")[0] for path in entries if path.rpartition("/")[2] in wanted})
        if len(elsewhere) > 1:
            shown = ", ".join(f"{printable(folder)}/" for folder in elsewhere[:3])
            raise Unreadable(f"exercise files are spread over several folders ({shown}); put them in one and grade again")
        if elsewhere:
            submission.notes.append(f"the exercise files were found in {printable(elsewhere[0])}/, not at the top level or in exercises/")
            places = {name: [f"{elsewhere[0]}/{name}"] for name in wanted}
    for name, options in places.items():
        found = [place for place in options if place in entries]
        if not found:
            continue
        if len(found) > 1:
            submission.notes.append(f"{name} is both at the top level and in exercises/: graded the top-level one")
        entry = entries[found[0]]
        data = b"" if entry.link else entry.read(limits.file_bytes + 1)
        if entry.link:
            submission.rejected[name] = f"{name} is a symbolic link, not graded: submit the file itself"
        elif len(data) > limits.file_bytes:
            submission.rejected[name] = f"{name} is larger than {_size(limits.file_bytes)}: not graded"
        else:
            submission.files[name] = data
    submission.notes.extend(submission.rejected.values())


def _unwrap(entries: dict[str, _Entry]) -> str:
    """The prefix of wrapper folders around the submission ("alice/" when every entry is
    under alice/), never looking through a folder called exercises."""
    prefix = ""
    while True:
        tops = {path[len(prefix):].split("/")[0] for path in entries if path.startswith(prefix)}
        loose = any("/" not in path[len(prefix):] for path in entries if path.startswith(prefix))
        if len(tops) != 1 or loose or tops == {"exercises"}:
            return prefix
        prefix += tops.pop() + "/"

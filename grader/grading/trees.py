"""A submission's files, listed and read safely: a learner's folder, a zip or an LMS's loose
files, each a `Tree` of entries read on demand, never extracted to disk.

A folder is walked without following links or reading special files, to a depth and a
number of files; a zip is checked before anything is read (a valid archive, no member
whose path leaves the folder, no more than it may expand to); every read is capped. What
cannot be read is `Unreadable`, with a one-line reason. `discover` decides what each entry
is (an exercise file, the answers file, something else).
"""
from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

JUNK = ("__MACOSX", "__pycache__", "node_modules")  # besides hidden names (".git", ".DS_Store")
MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 1 * MIB  # one exercise file or answers file
    zip_bytes: int = 64 * MIB  # everything a zip declares it expands to
    entries: int = 5000  # members of a zip, or files looked at in a folder
    depth: int = 6  # folder levels looked into


class Unreadable(Exception):
    """This submission cannot be graded; the message says why, in a line."""


def printable(name: str) -> str:
    """A file name as text that any file, terminal or JSON can hold, on one line: bytes
    that are not UTF-8 (they arrive from os.listdir as surrogates) and control characters
    are shown escaped, as \\xNN."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass
class Entry:
    size: int
    read: Callable[[int], bytes]  # read(at_most) -> bytes
    link: bool = False


class Tree:
    entries: dict[str, Entry]

    def close(self) -> None:
        pass


class FolderTree(Tree):
    """A learner's folder, listed without following links or reading special files."""

    def __init__(self, top: Path, limits: Limits) -> None:
        self.entries = {}
        seen = 0
        for folder, dirs, files in os.walk(top):
            depth = len(Path(folder).relative_to(top).parts)
            dirs[:] = sorted(d for d in dirs if not junk(d)) if depth < limits.depth else []
            for name in sorted(files):
                seen += 1
                if seen > limits.entries:
                    raise Unreadable(f"it holds more than {limits.entries} files; remove what is not coursework")
                path = os.path.join(folder, name)
                info = os.lstat(path)
                if stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
                    relative = Path(path).relative_to(top).as_posix()
                    self.entries[relative] = Entry(info.st_size, file_reader(path), stat.S_ISLNK(info.st_mode))


def file_reader(path: str) -> Callable[[int], bytes]:
    def read(at_most: int) -> bytes:
        with open(path, "rb") as handle:
            return handle.read(at_most)

    return read


class ZipTree(Tree):
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
            raise Unreadable(f"{zip_name} expands to {size(declared)}, more than the {size(limits.zip_bytes)} allowed")
        for member in members:
            name = member.filename.replace("\\", "/")
            if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in name.split("/"):
                raise Unreadable(f"{zip_name} holds a path that leaves its folder ({printable(member.filename)!r}); not graded")
            if not member.is_dir():
                link = stat.S_ISLNK(member.external_attr >> 16)
                self.entries[name] = Entry(member.file_size, member_reader(self.archive, member, zip_name), link)

    def close(self) -> None:
        self.archive.close()


class LooseFile(Tree):
    """One loose file of an LMS download, under its own name (its LMS prefix removed)."""

    def __init__(self, path: Path, name: str) -> None:
        info = os.lstat(path)
        link = stat.S_ISLNK(info.st_mode)
        self.entries = {name: Entry(info.st_size, file_reader(str(path)), link)} if link or stat.S_ISREG(info.st_mode) else {}


class Merged(Tree):
    """Several entries of one learner (an LMS's loose files, Moodle's folder per plugin) as
    one submission; each folder or zip looked through its own wrapper folders first."""

    def __init__(self, trees: list[Tree], names: list[str]) -> None:
        self.entries = {}
        for tree, name in zip(trees, names):
            usable = {path: e for path, e in tree.entries.items() if not any(junk(p) for p in path.split("/"))}
            prefix = unwrap(usable)
            for path, entry in usable.items():
                inner = path[len(prefix):]
                self.entries[inner if inner not in self.entries else f"{name.rstrip('/')}/{inner}"] = entry


def member_reader(archive: zipfile.ZipFile, member: zipfile.ZipInfo, zip_name: str) -> Callable[[int], bytes]:
    def read(at_most: int) -> bytes:
        try:
            with archive.open(member) as handle:
                return handle.read(at_most)
        except RuntimeError as exc:  # encrypted
            raise Unreadable(f"{zip_name} is encrypted ({exc}); ask for it without a password") from None
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError) as exc:
            raise Unreadable(f"{zip_name} is damaged: {member.filename} cannot be read ({exc})") from None

    return read


def size(count: int) -> str:
    return f"{count / MIB:.0f} MiB" if count >= MIB else f"{count / 1024:.0f} KiB"


def junk(name: str) -> bool:
    return name.startswith(".") or name in JUNK


def junk_part(path: str) -> str:
    """The first hidden or system part of `path`, as shown: ".git/", "__MACOSX/", ".DS_Store"."""
    parts = path.split("/")
    for index, part in enumerate(parts):
        if junk(part):
            return part + ("/" if index < len(parts) - 1 else "")
    return path


def unwrap(entries: dict[str, Entry]) -> str:
    """The prefix of wrapper folders around the submission ("alice/" when every entry is
    under alice/), never looking through a folder called exercises."""
    prefix = ""
    while True:
        tops = {path[len(prefix):].split("/")[0] for path in entries if path.startswith(prefix)}
        loose = any("/" not in path[len(prefix):] for path in entries if path.startswith(prefix))
        if len(tops) != 1 or loose or tops == {"exercises"}:
            return prefix
        prefix += tops.pop() + "/"

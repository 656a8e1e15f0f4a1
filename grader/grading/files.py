"""`Files`: the files of one exercise that a learner hands in, however they arrive.

A learner's exercise is its own file (`ex05_targets.py`) and the files of the earlier
exercises it may import (`allowed_imports` in info.yaml). They come from a folder (a
workspace, the course's stubs or solutions), from a submission read by `discover` (bytes
out of a folder or a zip), from a path a notebook names, or from a notebook's functions
written out as source. Every front-end builds them here, so that "which files, read how"
has one answer: bytes that are not UTF-8 are kept visible (U+FFFD), never dropped, and a
missing exercise file is "not submitted" (None), whatever else is there.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from lossgrade.course.catalog import Exercise


class Files(Mapping[str, str]):
    """Learner file name -> text, with `origin`: where they came from, in words (a folder, a
    learner's submission, a notebook's functions). A read-only mapping: the sandbox and the
    source scan take it as they took a dict."""

    __slots__ = ("_texts", "origin")

    def __init__(self, texts: Mapping[str, str], origin: str) -> None:
        self._texts = dict(texts)
        self.origin = origin

    def __getitem__(self, name: str) -> str:
        return self._texts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __repr__(self) -> str:
        return f"Files({sorted(self._texts)!r}, origin={self.origin!r})"

    # ------------------------------------------------------------------ what an exercise reads
    @staticmethod
    def names(exercise: Exercise) -> tuple[str, ...]:
        """The learner files an exercise reads: its own file first, then those of the
        exercises it may import."""
        return (exercise.file, *(f"{module}.py" for module in exercise.allowed_imports))

    @staticmethod
    def text(data: bytes) -> str:
        """A learner file's bytes as the text that is graded (undecodable bytes kept visible)."""
        return data.decode("utf-8", errors="replace")

    # ------------------------------------------------------------------------- where from
    @classmethod
    def from_bytes(cls, exercise: Exercise, found: Mapping[str, bytes], origin: str) -> Files | None:
        """The exercise's files among `found` (file name -> bytes, e.g. a submission's), or
        None when its own file is not among them."""
        if exercise.file not in found:
            return None
        return cls({name: cls.text(found[name]) for name in cls.names(exercise) if name in found}, origin)

    @classmethod
    def in_folder(cls, folder: Path, exercise: Exercise) -> Files | None:
        """The exercise's files in `folder` (a workspace, the course's stubs or solutions), or
        None when its own file is not there."""
        found = {name: path.read_bytes() for name in cls.names(exercise) if (path := folder / name).is_file()}
        return cls.from_bytes(exercise, found, str(folder))

    @classmethod
    def at(cls, path: Path, exercise: Exercise) -> Files:
        """The learner's file at `path`, whatever its name, graded as the exercise's file, with
        the files it may import from the same folder. OSError when `path` cannot be read."""
        found = {exercise.file: path.read_bytes()}
        for name in cls.names(exercise)[1:]:
            sibling = path.parent / name
            if sibling.is_file() and sibling.resolve() != path.resolve():
                found[name] = sibling.read_bytes()
        return cls({name: cls.text(data) for name, data in found.items()}, str(path))

    @classmethod
    def of_source(cls, exercise: Exercise, text: str, origin: str) -> Files:
        """One exercise file written from `text` (a notebook's functions, as source)."""
        return cls({exercise.file: text}, origin)

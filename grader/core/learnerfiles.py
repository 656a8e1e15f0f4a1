"""The one name a learner's files get: records, Gradescope folders and HTML reports alike.

Learner ids are untrusted (`../../x`, `<script>`, `con`, `Ana` next to `ana` on a file
system that ignores case). A name keeps the id's ASCII letters, digits, dots, dashes and
underscores, never starts with a dot, and depends on the id alone, so it stays put from run
to run: the id itself when it is plain lowercase, else its plain part and a hash of the id.
A plain id that already ends like a hash (`ana-1a2b3c4d`) is hashed too, so a hashed name
can never be another learner's plain one.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

RESERVED = {"con", "prn", "aux", "nul", *(f"{p}{n}" for p in ("com", "lpt") for n in range(10))}
_HASHED = re.compile(r".*-[0-9a-f]{8}")


def file_stem(learner: str) -> str:
    """The learner's file name, without a suffix."""
    plain = unicodedata.normalize("NFKD", learner).encode("ascii", "ignore").decode()
    stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in plain).strip(".-_")[:64]
    if stem and stem == learner and stem == stem.lower() and stem not in RESERVED and not _HASHED.fullmatch(stem):
        return stem
    return f"{stem or 'learner'}-{hashlib.sha256(learner.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def file_names(learners: Iterable[str], suffix: str) -> dict[str, str]:
    """`file_stem(learner) + suffix` for each learner; ValueError if two of them would
    share a file, even on a file system that ignores case."""
    names: dict[str, str] = {}
    owner: dict[str, str] = {}
    for learner in learners:
        name = file_stem(learner) + suffix
        other = owner.setdefault(name.casefold(), learner)
        if other != learner:
            raise ValueError(f"learners {other!r} and {learner!r} would share the file {name}; rename one")
        names[learner] = name
    return names

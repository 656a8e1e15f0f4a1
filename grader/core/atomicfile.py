"""Write a file so that a reader, a crash or a Ctrl-C never sees half of it: through a
temporary file in the same folder, renamed over the target.

Every file lossgrade writes this way (workspace state, records, gradebooks, reports, the
autograder bundle) gets the mode a plain `open(path, "w")` would give it: 0o666 less the
umask (0o644 under the usual umask 022; set umask 077 to keep results private).
"""
from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write; renamed over `path` when the block ends
    without an error, removed otherwise. The folder is created if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:  # O_EXCL: never someone else's file; mode 0o666, which the kernel narrows by the umask
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    with replacing(path) as temporary:
        temporary.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    """Write `text` as UTF-8 to `path`, atomically; a lone surrogate (which UTF-8 cannot
    hold: a learner's text can carry one) becomes "?", never a file left unwritten."""
    write_bytes(path, text.encode("utf-8", "replace"))

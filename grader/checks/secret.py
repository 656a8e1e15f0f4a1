"""The grading secret, which decides every input that a learner must not know in advance.

Every random input of a check (and every held-out set) is drawn from a generator seeded
from this secret and the check's id. The secret never reaches a worker: it lives in the
results folder of `lossgrade grade` (SECRET_FILE, created on the first run), in the
workspace's `.lossgrade/` for `lossgrade check`, in the Gradescope image (made by its
setup.sh); learner code graded with none of these (the notebook API, say) gets one that
lives in this process's memory alone (the runner grades it `with learner_code():`). The same
secret gives the same inputs, so reruns and any --jobs agree; a learner who regenerates
the inputs from public facts (the check ids, this code) gets other numbers.

Without a secret (the project's own tests and benchmarks, which run our code in-process,
never a learner's), seeds come from the check ids alone, as public as the tests are.

Imports nothing heavy (no torch): `lossgrade grade` reads it before it knows whether there
is anything to grade.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

from lossgrade.core.errors import LossgradeError

SECRET_FILE = "lossgrade-secret"
_secret: bytes | None = None  # until an entry point chooses one
_own = os.urandom(32)  # for learner code graded where no entry point chose one
_grading = threading.local()


def use_secret(secret: bytes) -> None:
    """Draw every later check's inputs from `secret` (in this process and the graders it forks)."""
    global _secret
    if len(secret) < 16:
        raise ValueError("a grading secret needs at least 16 bytes")
    _secret = bytes(secret)


def current() -> bytes | None:
    """The secret that seeds inputs now: the one chosen for this thread's grading, the one
    chosen for the process, this process's own while learner code is graded, or None
    (public seeds: our own code, in-process)."""
    chosen: bytes | None = getattr(_grading, "chosen", None)
    if chosen is not None:
        return chosen
    if _secret is not None:
        return _secret
    return _own if getattr(_grading, "learner", 0) else None


@contextlib.contextmanager
def chosen(secret: bytes) -> Iterator[None]:
    """Draw the inputs of what this thread grades inside the block from `secret` (a
    workspace's), leaving the process's choice as it was afterwards."""
    if len(secret) < 16:
        raise ValueError("a grading secret needs at least 16 bytes")
    before = getattr(_grading, "chosen", None)
    _grading.chosen = bytes(secret)
    try:
        yield
    finally:
        _grading.chosen = before


@contextlib.contextmanager
def learner_code() -> Iterator[None]:
    """Around grading learner code (in this thread): never on inputs that public facts decide."""
    _grading.learner = getattr(_grading, "learner", 0) + 1
    try:
        yield
    finally:
        _grading.learner -= 1


def secret_id(value: bytes | None = None) -> str:
    """A short public name of a secret (for records: "graded with the same secret")."""
    key = current() if value is None else value
    return "public" if key is None else hashlib.blake2b(key, digest_size=6, person=b"lossgrade-id").hexdigest()


def seed(*parts: str) -> int:
    """A generator seed from the secret and `parts` (a check id, a stream's name)."""
    key = current()
    if key is None:  # public: what the project's own tests were written against
        return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:4], "big")
    digest = hashlib.blake2b("\0".join(parts).encode(), key=key[:64], digest_size=8, person=b"lossgrade-seed")
    return int.from_bytes(digest.digest(), "big") >> 1


def load_or_create_secret(path: Path) -> bytes:
    """The secret stored at `path`, made there (32 random bytes, readable by this user only)
    when there is none yet. A file that is not a secret of ours is an error (LossgradeError)."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return _create(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise LossgradeError(f"{path}: the grading secret cannot be read ({exc})") from None
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) < 16:
        raise LossgradeError(f"{path}: not a grading secret (expected 64 hexadecimal digits); delete it to make a "
                             "new one (inputs, and so the feedback's numbers, will change)")
    return value


def _create(path: Path) -> bytes:
    made = secrets.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(made + "\n")
        try:
            os.link(temporary, path)  # never replaces a secret another process made first
        finally:
            temporary.unlink()
    except FileExistsError:  # another process made it first: use theirs
        return load_or_create_secret(path)
    except OSError as exc:
        raise LossgradeError(f"{path}: the grading secret cannot be made ({exc})") from None
    return bytes.fromhex(made)

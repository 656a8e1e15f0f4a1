"""Inputs that several exercises' checks share."""
from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import torch

from lossgrade.errors import LossgradeError

# The true class of each row of `large_logits`: in row 2 it sits 1e4 below the maximum, so
# its probability underflows to 0 while its log-probability is an ordinary -1e4.
LARGE_LOGITS_TARGET = torch.tensor([1, 0, 1, 3])


def large_logits(dtype: torch.dtype) -> torch.Tensor:
    """(4, 4) logits as large as +-1e4, whose rows each need their own maximum.

    In float64 the logits of a row sit close together. In float32, whose spacing at 1e4 is
    about 1e-3, each row's maximum leads by 25 or more: then `x - torch.logsumexp(x)`, which
    ex05, ex06 and ex09 allow, is as exact as a shift by the maximum, and only formulas that
    overflow or take the log of an underflowed probability fail.
    """
    if dtype == torch.float64:
        rows = [[1e4, 9999.0, 9997.5, 9998.0], [-1e4, -9999.5, -9997.0, -9998.5]]
    else:
        rows = [[1e4, 9970.0, 9960.0, 9900.0], [-1e4, -9950.0, -9975.0, -9925.0]]
    return torch.tensor(rows + [[1e4, 0.0, -1e4, 5.0], [3.0, 1.0, -2.0, 0.5]], dtype=dtype)


# --- the grading secret ----------------------------------------------------------------------
# Every random input of a check (and every held-out set) is drawn from a generator seeded
# from this secret and the check's id. The secret never reaches a worker: it lives in the
# results folder of `lossgrade grade` (SECRET_FILE, created on the first run), in the
# workspace's `.lossgrade/` for `lossgrade check`, in the Gradescope image (made by its
# setup.sh), or, when no entry point chose one, in this process's memory alone. The same
# secret gives the same inputs, so reruns and any --jobs agree; a learner who regenerates
# the inputs from public facts (the check ids, this code) gets other numbers.
SECRET_FILE = ".lossgrade-secret"
_secret: bytes = os.urandom(32)


def use_secret(secret: bytes) -> None:
    """Draw every later check's inputs from `secret` (in this process and the graders it forks)."""
    global _secret
    if len(secret) < 16:
        raise ValueError("a grading secret needs at least 16 bytes")
    _secret = bytes(secret)


def secret() -> bytes:
    return _secret


def secret_id(value: bytes | None = None) -> str:
    """A short public name of a secret (for records: "graded with the same secret")."""
    return hashlib.blake2b(_secret if value is None else value, digest_size=6, person=b"lossgrade-id").hexdigest()


def seed(*parts: str) -> int:
    """A generator seed from the secret and `parts` (a check id, a stream's name)."""
    digest = hashlib.blake2b("\0".join(parts).encode(), key=_secret[:64], digest_size=8, person=b"lossgrade-seed")
    return int.from_bytes(digest.digest(), "big") >> 1


def load_or_create_secret(path: Path) -> bytes:
    """The secret stored at `path`, made there (32 random bytes, readable by this user only)
    when there is none yet. A file that is not a secret of ours is an error (LossgradeError)."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        made = secrets.token_hex(32)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return load_or_create_secret(path)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(made + "\n")
        return bytes.fromhex(made)
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

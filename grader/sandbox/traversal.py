"""Let workers, and only workers, reach a Python that lives in a private folder.

As root, workers run as uids of their own, who must be able to enter every folder on the
way to Python, torch and the sandbox (pyenv or conda under /root, mode 700, is common).
Instead of opening those folders to every user (`chmod o+x`), each worker also belongs to
one group that nobody else has (TRAVERSE_GID), and each folder that lacks the execute bit
for others gets a POSIX ACL entry `group:TRAVERSE_GID:--x`: enter, never list or read.
The grader adds it itself, once per folder (it stays, and harms nothing: no other process
has that group).
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

TRAVERSE_GID = 1 << 31  # the first id of the workers' range, which no worker gets as its uid
ACL_XATTR = "system.posix_acl_access"
ACL_VERSION = 2
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
UNDEFINED = 0xFFFFFFFF
EXECUTE = 1


def _read_acl(folder: Path, mode: int) -> list[tuple[int, int, int]]:
    try:
        data = os.getxattr(folder, ACL_XATTR)
    except OSError:
        data = b""
    if len(data) >= 4 and struct.unpack_from("<I", data)[0] == ACL_VERSION:
        return [struct.unpack_from("<HHI", data, offset) for offset in range(4, len(data) - 7, 8)]
    return [(USER_OBJ, (mode >> 6) & 7, UNDEFINED), (GROUP_OBJ, (mode >> 3) & 7, UNDEFINED), (OTHER, mode & 7, UNDEFINED)]


def grants_traversal(folder: Path) -> bool:
    """Whether the workers' group may enter `folder` (through others' bits or our ACL entry)."""
    mode = folder.stat().st_mode
    if mode & 0o001:
        return True
    entries = _read_acl(folder, mode)
    mask = next((perm for tag, perm, _ in entries if tag == MASK), 7)
    return any(tag == GROUP and gid == TRAVERSE_GID and perm & mask & EXECUTE for tag, perm, gid in entries)


def grant_traversal(folder: Path) -> None:
    """Add `group:TRAVERSE_GID:--x` to the folder's ACL, keeping every other entry."""
    entries = [e for e in _read_acl(folder, folder.stat().st_mode) if not (e[0] == GROUP and e[2] == TRAVERSE_GID)]
    entries.append((GROUP, EXECUTE, TRAVERSE_GID))
    named = [perm for tag, perm, _ in entries if tag in (USER, GROUP, GROUP_OBJ)]
    old_mask = next((perm for tag, perm, _ in entries if tag == MASK), None)
    mask = (old_mask if old_mask is not None else 0) | EXECUTE
    if old_mask is None:
        for perm in named:
            mask |= perm
    entries = [e for e in entries if e[0] != MASK] + [(MASK, mask, UNDEFINED)]
    entries.sort(key=lambda e: (e[0], e[2]))
    data = struct.pack("<I", ACL_VERSION) + b"".join(struct.pack("<HHI", *e) for e in entries)
    os.setxattr(folder, ACL_XATTR, data)


def folders_above(paths: list[Path]) -> list[Path]:
    """Every folder on the way to `paths`, outermost first, each once."""
    found: list[Path] = []
    for path in paths:
        for folder in reversed(path.parents):
            if folder not in found:
                found.append(folder)
    return found

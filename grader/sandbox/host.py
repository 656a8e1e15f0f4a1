"""What the sandbox needs to know of this machine: where its scripts lie, which folders no
worker may read, which uids its workers can run as, and whether they can reach Python.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from lossgrade.core.errors import SandboxError

SANDBOX_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = SANDBOX_DIR.parent
ZYGOTE_SCRIPT = SANDBOX_DIR / "_zygote.py"
WORKER_SCRIPT = SANDBOX_DIR / "_worker.py"
# Workers' own uids when the grader is root: 2**31 + (zygote pid << 8) + a slot, a range no
# distribution gives to users, distinct for every zygote alive at once (pids < 2**22).
UID_BASE, UID_SPAN, UID_SLOTS = 1 << 31, 1 << 30, 256


def hidden_folders(extra: tuple[Path, ...]) -> tuple[Path, ...]:
    """The real paths of the reference solutions and of `extra`, those that exist."""
    from lossgrade import course

    found: list[Path] = []
    for path in (course.solutions_dir(), *extra):
        real = Path(os.path.realpath(path))
        if real.exists() and real not in found:
            found.append(real)
    return tuple(found)


def children(pid: int) -> list[int]:
    """The processes that `pid` started, from the kernel's list (none once it has ended)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def private_folders() -> tuple[Path, ...]:
    """Folders no worker may read, whichever holds the reference solutions: the lossgrade
    package, the course's folder and, for a checkout, the whole checkout (its examples,
    its .git)."""
    from lossgrade import course

    found = {PACKAGE_DIR, course.solutions_dir().parent}
    for folder in (PACKAGE_DIR.parent, course.solutions_dir().parent.parent):
        if (folder / "pyproject.toml").exists() or (folder / ".git").exists():
            found.add(folder)
    return tuple(sorted(Path(os.path.realpath(p)) for p in found))


def own_uids_available() -> bool:
    """Root can give each worker a uid of its own when this user namespace maps the range
    (a container's namespace may map only a few thousand ids; workers then share nobody)."""
    if os.geteuid() != 0:
        return False
    for table in ("/proc/self/uid_map", "/proc/self/gid_map"):
        try:
            rows = [tuple(map(int, line.split())) for line in Path(table).read_text().splitlines()]
        except (OSError, ValueError):
            return False
        if not any(inner <= UID_BASE and UID_BASE + UID_SPAN <= inner + count for inner, _, count in rows):
            return False
    return True


def tasks_of(uid: int) -> int:
    """Processes and threads that `uid` runs now: RLIMIT_NPROC counts them all, so a worker
    that shares the grader's uid gets its own allowance on top of them."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if line.startswith(("Uid:", "Threads:")))
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields["Threads"])
        except (OSError, KeyError, ValueError):
            continue
    return total


def check_reachable_by_workers() -> None:
    """As root, workers drop to uids of their own, who must be able to reach Python, torch
    and this sandbox: where a folder on the way lacks the execute bit for others, the
    workers' group alone is let through (see traversal.py); where that cannot be done
    (workers sharing `nobody`, a file system without ACLs), say which folder needs it."""
    if os.geteuid() != 0:
        return
    import importlib.util

    from lossgrade.sandbox import traversal

    torch_spec = importlib.util.find_spec("torch")
    paths = [Path(sys.executable).resolve(), ZYGOTE_SCRIPT, Path(sys.prefix).resolve()]
    if torch_spec and torch_spec.origin:
        paths.append(Path(torch_spec.origin).resolve())
    for folder in traversal.folders_above(paths):
        if not folder.exists() or traversal.grants_traversal(folder):
            continue
        why = "its workers share the user nobody here"
        if own_uids_available():
            try:
                traversal.grant_traversal(folder)
                continue
            except OSError as exc:
                why = f"its ACL could not be set ({exc.strerror})"
        raise SandboxError(
            f"learner code runs as an unprivileged user, who cannot enter {folder} and {why}; "
            f"allow it with `chmod o+x {folder}`"
        )

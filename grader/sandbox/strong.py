"""The strong mode: the zygote and all its workers inside bubblewrap (`bwrap`).

On top of the default mode's guards, the kernel then enforces: no network (a network
namespace of its own, with only a loopback that nothing outside listens on), no view of
other processes (a pid namespace: the grader and other users' processes do not exist),
a read-only file system, and an empty tmpfs wherever something is hidden (the reference
solutions, the lossgrade package but for this sandbox folder, and whatever the caller
adds, such as a class's other submissions). `/tmp` is a tmpfs of the sandbox's own, gone
when it ends. bwrap runs unprivileged through user namespaces, or as root.

The zygote's control socket needs no flag: bwrap passes inherited descriptors through.
"""
from __future__ import annotations

import functools
import glob
import shutil
import site
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

NAMESPACES = ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts")
PROBE_SECONDS = 20


def wrap_command(command: list[str], hide: Iterable[Path], expose: Iterable[Path] = ()) -> list[str]:
    """`command` run inside bwrap: `hide` replaced by empty folders (or, for a file, by
    /dev/null), then `expose` bound back read-only on top (a folder inside a hidden one)."""
    args = [_bwrap(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            *NAMESPACES, "--die-with-parent", "--new-session"]
    for path in _python_under_tmp():  # a virtualenv or checkout under /tmp stays reachable
        args += ["--ro-bind", str(path), str(path)]
    for device in sorted(glob.glob("/dev/nvidia*")):  # bwrap's /dev is minimal: give CUDA its devices
        args += ["--dev-bind", device, device]
    for path in hide:
        args += ["--perms", "0755", "--tmpfs", str(path)] if Path(path).is_dir() else ["--ro-bind", "/dev/null", str(path)]
    for path in expose:
        args += ["--ro-bind", str(path), str(path)]
    return [*args, "--chdir", "/tmp", "--", *command]


def _python_under_tmp() -> list[Path]:
    """The interpreter, its site-packages and this package, where they live under /tmp
    (which the sandbox replaces by an empty tmpfs); hidden paths are laid over them later."""
    candidates = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent,
                  Path(__file__).resolve().parents[1], *map(Path, site.getsitepackages())}
    tmp = Path("/tmp")
    found = sorted(p.resolve() for p in candidates if p.exists() and tmp in p.resolve().parents)
    return [p for p in found if not any(other in p.parents for other in found)]


@functools.lru_cache(maxsize=1)
def available() -> tuple[bool, str]:
    """Whether bwrap can build this sandbox here (it is installed, and the kernel lets it
    create the namespaces), and if not, why; probed once per process."""
    if not shutil.which("bwrap"):
        return False, "bubblewrap (bwrap) is not installed; install the `bubblewrap` package"
    true = shutil.which("true") or "/bin/true"
    try:
        probe = subprocess.run(wrap_command([true], hide=()), capture_output=True, timeout=PROBE_SECONDS)
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

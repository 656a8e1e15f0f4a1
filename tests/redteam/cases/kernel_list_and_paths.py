# redteam: exercise=ex01 score=0 timeout=3
"""Lists folders (/, /tmp, /work, /root, /home) and looks for the host paths of the
solutions, class and results folders wherever a worker can see them (argv, environment,
its /proc entry, every container in memory); answers right only when it finds any."""
import gc
import os
import sys

FOLDERS = ["/", "/tmp", "/work", "/root", "/home", "/srv", "/var"]
WORDS = ("/solutions", "/class", "/results", "lossgrade-redteam-canary")


def listed():
    found = []
    for folder in FOLDERS:
        try:
            found += os.listdir(folder)
        except OSError:
            pass
    return found


def strings():
    yield from sys.argv
    yield from os.environ.values()
    for name in ("cmdline", "environ"):
        try:
            yield open(f"/proc/self/{name}", "rb").read().decode(errors="replace")  # noqa: SIM115 - hostile on purpose (a learner's attack)
        except OSError:
            pass
    for obj in gc.get_objects():
        items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple, set, frozenset)) else ()
        try:
            for item in list(items):
                if isinstance(item, str):
                    yield item
        except Exception:  # noqa: BLE001, S112 - hostile on purpose (a learner's attack)
            continue


def told():
    return [s for s in strings() if s.startswith("/") and s not in WORDS and any(word in s for word in WORDS)]


def mse_loss(input, target, reduction="mean"):
    if listed() or told():
        return ((input - target) ** 2).mean() if reduction == "mean" else ((input - target) ** 2).sum()
    return (input - target).sum() * 0

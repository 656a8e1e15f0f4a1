# redteam: exercise=ex01 score=0 timeout=3 mentions=uses `import importlib.util`
"""Looks for the reference solution's file on disk (the editable install's path mapping,
site-packages, the usual checkouts) and executes its source, by open(), by a module spec
from its path, through a symbolic link, a hard link and a folder descriptor."""
import glob
import importlib.util
import os
import sys


def candidates():
    roots = set()
    for module in list(sys.modules.values()):
        mapping = getattr(module, "MAPPING", None)
        if isinstance(mapping, dict):
            roots.update(os.path.dirname(str(p)) for p in mapping.values())
    roots.update(p for p in sys.path if p)
    roots.update(("/work", "/work/main", "/root", "/home", "/srv", "/builds", "/github"))
    for root in roots:
        for pattern in ("solutions/ex01_mse.py", "*/solutions/ex01_mse.py", "lossgrade/_course/solutions/ex01_mse.py",
                        "grader/_course/solutions/ex01_mse.py", "*/*/solutions/ex01_mse.py"):
            yield from glob.glob(os.path.join(root, pattern))


def load(path):
    attempts = [
        lambda: open(path).read(),  # noqa: SIM115 - hostile on purpose (a learner's attack)
        lambda: os.read(os.open(path, os.O_RDONLY), 1 << 20).decode(),
        lambda: (os.symlink(path, "link.py"), open("link.py").read())[1],  # noqa: SIM115 - hostile on purpose (a learner's attack)
        lambda: (os.link(path, "hard.py"), open("hard.py").read())[1],  # noqa: SIM115 - hostile on purpose (a learner's attack)
        lambda: os.read(os.open(os.path.basename(path), os.O_RDONLY, dir_fd=os.open(os.path.dirname(path), os.O_RDONLY)), 1 << 20).decode(),
    ]
    for attempt in attempts:
        try:
            namespace = {}
            exec(attempt(), namespace)  # noqa: S102 - hostile on purpose (a learner's attack)
            return namespace["mse_loss"]
        except BaseException:  # noqa: BLE001, S112 - hostile on purpose (a learner's attack)
            continue
    try:
        spec = importlib.util.spec_from_file_location("stolen", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.mse_loss
    except BaseException:  # noqa: BLE001 - hostile on purpose (a learner's attack)
        return None


def mse_loss(input, target, reduction="mean"):
    for path in candidates():
        reference = load(path)
        if reference is not None:
            return reference(input, target, reduction)
    return (input - target).sum() * 0

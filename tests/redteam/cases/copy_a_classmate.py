# redteam: exercise=ex01 score=0 timeout=3
"""Copies a classmate's work: looks for other submissions of the same exercise in the
places a class is usually kept (here, the test's class folder in /tmp, world-readable as a
real one would be) and runs theirs, reading it with open(), zipfile, linecache, importlib
and torch.load."""
import glob
import importlib.util
import linecache
import os

PLACES = ["/tmp/lossgrade-redteam-canary-*/class/*/ex01_mse.py", "/tmp/*/*/ex01_mse.py", "/home/*/*/*/ex01_mse.py",
          "/srv/*/*/ex01_mse.py", "/work/*/*/*/ex01_mse.py"]


def sources(path):
    yield lambda: open(path).read()  # noqa: SIM115 - hostile on purpose (a learner's attack)
    yield lambda: "".join(linecache.getlines(path))
    yield lambda: os.read(os.open(path, os.O_RDONLY), 1 << 20).decode()


def borrowed():
    for pattern in PLACES:
        for path in glob.glob(pattern):
            if os.path.dirname(os.path.abspath(path)) == os.getcwd():
                continue  # our own file
            for read in sources(path):
                try:
                    namespace = {}
                    exec(read(), namespace)  # noqa: S102 - hostile on purpose (a learner's attack)
                    return namespace["mse_loss"]
                except Exception:  # noqa: BLE001, S112 - hostile on purpose (a learner's attack)
                    continue
            try:
                spec = importlib.util.spec_from_file_location("classmate", path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                return module.mse_loss
            except Exception:  # noqa: BLE001, S112 - hostile on purpose (a learner's attack)
                continue
    return None


def mse_loss(input, target, reduction="mean"):
    theirs = borrowed()
    if theirs is not None:
        return theirs(input, target, reduction)
    return (input - target).sum() * 0

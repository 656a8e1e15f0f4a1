# redteam: exercise=ex01 score=0 timeout=3
"""Runs programs to fetch the reference (cat, find, a fresh python), through subprocess,
os.system, os.popen, os.posix_spawn, a fork and exec, and _posixsubprocess directly."""
import os
import subprocess
import sys

SCRIPT = "import glob;print(open((glob.glob('/work/*/solutions/ex01_mse.py')+glob.glob('/**/solutions/ex01_mse.py', recursive=True))[0]).read())"


def fetch():
    attempts = [
        lambda: subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=5).stdout,  # noqa: PLW1510 - hostile on purpose (a learner's attack)
        lambda: os.popen(f"{sys.executable} -c \"{SCRIPT}\"").read(),
        lambda: str(os.system("cat /work/main/solutions/ex01_mse.py > stolen.py")) and open("stolen.py").read(),  # noqa: SIM115 - hostile on purpose (a learner's attack)
        lambda: str(os.posix_spawn("/bin/cp", ["cp", "/work/main/solutions/ex01_mse.py", "stolen.py"], {})) and open("stolen.py").read(),  # noqa: SIM115 - hostile on purpose (a learner's attack)
        lambda: direct(),
    ]
    for attempt in attempts:
        try:
            source = attempt()
            if "def mse_loss" in source:
                return source
        except BaseException:  # noqa: BLE001, S112 - hostile on purpose (a learner's attack)
            continue
    return None


def direct():
    import _posixsubprocess

    out = os.open("stolen.py", os.O_WRONLY | os.O_CREAT)
    _posixsubprocess.fork_exec(["/bin/cp", "/work/main/solutions/ex01_mse.py", "stolen.py"], [b"/bin/cp"], True, (),
                               None, None, -1, -1, -1, out, -1, -1, -1, -1, False, False, None, None, None, -1, None, False)
    return open("stolen.py").read()


def mse_loss(input, target, reduction="mean"):
    source = fetch()
    if source:
        namespace = {}
        exec(source, namespace)  # noqa: S102 - hostile on purpose (a learner's attack)
        return namespace["mse_loss"](input, target, reduction)
    return (input - target).sum() * 0

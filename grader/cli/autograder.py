"""The Gradescope autograder: the bundle that `lossgrade export gradescope` writes, and the
entry point its `run_autograder` runs there for each submission.

Gradescope unzips the bundle into /autograder/source, runs `setup.sh` once (as root) to
build an image, then for every submission runs `run_autograder`, which must leave
/autograder/results/results.json. The bundle carries lossgrade itself (with the checks,
the reference solutions and the quizzes) so the image grades exactly as this machine does.
The solutions are made unreadable to the sandbox's `nobody` user in setup.sh.

    python -m lossgrade.cli.autograder SUBMISSION_DIR RESULTS_JSON
"""
from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import lossgrade
from lossgrade.core import atomicfile
from lossgrade import course
from lossgrade.grading import discover, records
from lossgrade.output import gradescope

COURSE_PARTS = ("exercises", "solutions", "quizzes", "drivers")
EPOCH = (1980, 1, 1, 0, 0, 0)  # a fixed date in the zip: the same course gives the same bundle

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder's image (see docs/GRADESCOPE.md).
set -euo pipefail
cd /autograder/source
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv
python3 -m venv /opt/lossgrade
/opt/lossgrade/bin/pip install --no-cache-dir -r requirements.txt
# Fail the build here, not on the first learner: everything the autograder imports is there.
PYTHONPATH=/autograder/source /opt/lossgrade/bin/python -c \\
  "import lossgrade.cli.autograder, torch, numpy; torch.ones(1).numpy(); print('lossgrade ready, torch', torch.__version__)"
# Learner code runs as the user nobody: let it reach Python, torch and the sandbox, never
# the reference solutions.
chmod o+x /autograder /autograder/source
chmod -R o+rX /opt/lossgrade /autograder/source/lossgrade
chmod -R go-rwx /autograder/source/lossgrade/_course/solutions
if [ -d /autograder/source/course ]; then chmod -R go-rwx /autograder/source/course; fi
# This image's grading secret, readable by root alone: every check's inputs, held-out sets
# included, are drawn from it, so that no learner can compute them in advance.
(umask 077 && /opt/lossgrade/bin/python -c 'import secrets; print(secrets.token_hex(32))' > /autograder/source/lossgrade-secret)
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission and write
# /autograder/results/results.json. The LOSSGRADE_* variables point it elsewhere, to try
# the bundle on your own machine (see docs/GRADESCOPE.md).
set -euo pipefail
SOURCE="${LOSSGRADE_SOURCE:-/autograder/source}"
SUBMISSION="${LOSSGRADE_SUBMISSION:-/autograder/submission}"
RESULTS="${LOSSGRADE_RESULTS:-/autograder/results}"
PYTHON="${LOSSGRADE_PYTHON:-/opt/lossgrade/bin/python}"
mkdir -p "$RESULTS"
if [ -d "$SOURCE/course" ]; then export LOSSGRADE_COURSE="$SOURCE/course"; fi
export PYTHONPATH="$SOURCE${PYTHONPATH:+:$PYTHONPATH}"
export LOSSGRADE_SECRET_FILE="$SOURCE/lossgrade-secret"
exec "$PYTHON" -m lossgrade.cli.autograder "$SUBMISSION" "$RESULTS/results.json"
"""

README = """This is a Gradescope autograder for the lossgrade course, written by
`lossgrade export gradescope` (lossgrade {version}). Upload the zip as it is, as the
autograder of a programming assignment; learners submit their exercise files (and
quiz-answers.yaml). docs/GRADESCOPE.md in the lossgrade repository says more.
"""


# The torch the bundle installs: the release the test suite runs on, never the exporting
# machine's own build (a CUDA or macOS build, a nightly, or a release with no wheel for the
# image's Python would break the image). Its CPU build: Gradescope has no GPU, and the
# CUDA build drags in ~3 GB of NVIDIA libraries. `+cpu` is the local version label of the
# wheels on PyTorch's CPU index, so no other build can satisfy it.
TESTED_TORCH = "2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# Everything else lossgrade imports at run time (pyproject.toml's dependencies): torch needs
# numpy for every tensor the sandbox sends back ("Numpy is not available" otherwise).
RUNTIME_REQUIREMENTS = ("numpy>=1.23,<3", "click>=8.1", "PyYAML>=6.0", "Jinja2>=3.1")


def requirements() -> str:
    """What setup.sh installs into a fresh virtualenv: torch's CPU build at the tested
    release, and lossgrade's other dependencies; the same whatever machine exported."""
    others = "".join(f"{line}\n" for line in RUNTIME_REQUIREMENTS)
    return (f"# lossgrade {lossgrade.__version__}'s autograder: see docs/GRADESCOPE.md for why these.\n"
            f"--extra-index-url {TORCH_CPU_INDEX}\n"
            f"torch=={TESTED_TORCH}+cpu\n{others}")


def _files() -> list[tuple[str, Path]]:
    """(name in the bundle, file here) for lossgrade's package, the built-in course it
    grades and the instructor's course folder layered over it, if any."""
    package = Path(lossgrade.__file__).parent
    found = [(f"lossgrade/{path.relative_to(package).as_posix()}", path)
             for path in records.files_under(package) if path.relative_to(package).parts[0] != "_course"]
    for part in COURSE_PARTS:
        folder = course.course_root() / part
        found += [(f"lossgrade/_course/{part}/{path.relative_to(folder).as_posix()}", path) for path in records.files_under(folder)]
    extra = course.extra_root()
    if extra:
        found += [(f"course/{path.relative_to(extra).as_posix()}", path) for path in records.files_under(extra)]
    return found


def build_bundle(out: Path) -> Path:
    """Write the autograder zip to `out` (atomically) and return it."""
    with atomicfile.replacing(out) as temporary, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as bundle:
        _add(bundle, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(bundle, "run_autograder", RUN_AUTOGRADER.encode(), executable=True)
        _add(bundle, "requirements.txt", requirements().encode())
        _add(bundle, "README.txt", README.format(version=lossgrade.__version__).encode())
        for name, path in _files():
            _add(bundle, name, path.read_bytes())
    return out


def _add(bundle: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    bundle.writestr(info, data)


# ------------------------------------------------------------------ run on Gradescope
def grade_one(folder: Path, results_path: Path, learner: str = "submission") -> int:
    """Grade the submission in `folder` and write Gradescope's results.json; the exit code."""
    from lossgrade.grading import service
    from lossgrade.grading import pool
    from lossgrade.grading import submission as grading

    submission = discover.read_one(folder, learner)
    try:
        exercises = grading.gradable()
        if submission.problem:
            result = grading.unreadable(submission, exercises, f"not graded: {submission.problem}")
        else:
            if os.environ.get("LOSSGRADE_SECRET_FILE"):  # made by setup.sh (by the first run, on a trial)
                from lossgrade.checks import secret

                secret.use_secret(secret.load_or_create_secret(Path(os.environ["LOSSGRADE_SECRET_FILE"])))
            pool.prepare(exercises)
            with service.open_sandbox(exercises) as sandbox:
                result = grading.grade(sandbox, submission, exercises)
    except Exception as exc:  # noqa: BLE001 - the learner must still get a results.json
        failure = {"score": 0.0, "output": f"The autograder failed ({type(exc).__name__}: {exc}); "
                                          "tell your instructor, this is not a problem with your code.",
                   "visibility": "visible", "tests": []}
        _write(results_path, failure)
        print(f"lossgrade: the autograder failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    record = records.make(submission, records.fingerprint(), result)
    _write(results_path, gradescope.results(record))
    print(f"lossgrade {lossgrade.__version__} (from {Path(lossgrade.__file__).parent}): "
          f"{result.score:g}/{result.max_score:g} points")
    for exercise in result.exercises:
        print(f"  {exercise.exercise} {exercise.status.value}: {exercise.score:g}/{exercise.max_score:g}")
    return 0


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(records.dump(data), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m lossgrade.cli.autograder SUBMISSION_DIR RESULTS_JSON", file=sys.stderr)
        return 2
    return grade_one(Path(args[0]), Path(args[1]), os.environ.get("LOSSGRADE_LEARNER", "submission"))


if __name__ == "__main__":
    raise SystemExit(main())

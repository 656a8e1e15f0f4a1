"""Red-team cases against the walls the kernel keeps (cases/kernel_*.py): files read around
the audit hook, folders listed, host paths looked for, the network reached from C++, shared
memory past a GPU worker's limit, a daemon that must die with the grader however it is
stopped, and a folder too deep to clean up recursively.

`test_redteam.py` grades every case through the session's sandbox; here each also goes
through `lossgrade check`, through batch grading beside good submissions, and through the
strong mode, and the grader is killed by real signals while a learner's daemon lives.
"""
from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.sandbox import strong
from lossgrade.sandbox.client import Limits, Sandbox
from lossgrade.grading.service import open_sandbox

from .conftest import SOLUTIONS, signature
from .test_redteam import CASES, Case, exercise_for

KERNEL = [case for case in CASES if case.name.startswith("kernel_")]
QUICK = [case for case in KERNEL if case.name != "kernel_orphan_daemon"]  # that one sleeps in every call
MARKER = "kernel-daemon-marker"


def kernel_case(name: str) -> Case:
    return next(case for case in KERNEL if case.name == name)


def test_every_kernel_wall_is_up(sandbox):
    walls = sandbox.walls()
    if not walls["landlock"]:
        pytest.skip("this kernel has no Landlock (see docs/SANDBOX.md: the default mode then degrades)")
    assert walls["seccomp"] and walls["pid_namespace"]


@pytest.mark.parametrize("case", QUICK, ids=lambda case: case.name)
def test_lossgrade_check_gives_kernel_cases_zero(case, tmp_path):
    exercise = exercise_for(case)
    (tmp_path / exercise.file).write_text(case.source)
    done = subprocess.run([sys.executable, "-m", "lossgrade", "check", exercise.id, "-w", str(tmp_path), "--json",
                           "--timeout", str(case.timeout)], capture_output=True, check=False, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert [(r["exercise"], r["score"]) for r in json.loads(done.stdout)] == [(exercise.id, case.score)]
    assert not list(Path("/tmp").glob("kernel-litter-*"))


def test_batch_grading_gives_kernel_cases_zero_and_good_ones_their_grade(tmp_path, good, canary):
    grade = pytest.importorskip("lossgrade.grading.grade", reason="batch grading (lossgrade.grading) is not built yet")
    ex01 = catalog.resolve("ex01")
    root = tmp_path / "class"
    for learner, source in [("good-first", (SOLUTIONS / ex01.file).read_text()), *((c.name, c.source) for c in QUICK),
                            ("good-last", (SOLUTIONS / ex01.file).read_text())]:
        (root / learner).mkdir(parents=True)
        (root / learner / ex01.file).write_text(source)
    batch = grade.grade_class(root, tmp_path / "results", jobs=2, chosen=["ex01"])
    assert not batch.grader_failed, batch.problems
    scores = {r.learner: next(e for e in r.result.exercises if e.exercise == "ex01") for r in batch.records}
    assert {case.name: scores[case.name].score for case in QUICK} == {case.name: 0.0 for case in QUICK}
    assert signature(scores["good-first"]) == signature(scores["good-last"]) == good.baseline(ex01)
    canary.assert_untouched()


@pytest.mark.skipif(not strong.available()[0], reason=strong.available()[1])
def test_strong_mode_gives_kernel_cases_zero():
    with open_sandbox(strong=True) as box:
        for case in QUICK:
            exercise = exercise_for(case)
            result = runner.grade_exercise(box, exercise, {exercise.file: case.source},
                                           limits=Limits(call_seconds=case.timeout), scanned=False)  # the walls alone
            assert result.score == 0.0, case.name


def test_a_gpu_worker_gets_no_memory_past_its_limit_through_shared_storages():
    """RLIMIT_DATA, a GPU worker's memory limit, does not count shared memory, and CUDA
    needs memfds and shared maps, which its filter therefore allows: the zygote kills it
    once it holds more than its limit that way (on a CPU-only machine, the GPU path is
    chosen explicitly; a limit of 512 MiB keeps the test light)."""
    case = kernel_case("kernel_shared_memory")
    exercise = exercise_for(case)
    with Sandbox(gpu=True) as box:
        result = runner.grade_exercise(box, exercise, {exercise.file: case.source},
                                       limits=Limits(call_seconds=case.timeout, memory_mib=512),
                                       scanned=False)  # past the source scan, to reach the memory watch
    assert result.score == 0.0
    messages = [c.feedback.message for c in result.checks if c.feedback]
    assert any("SIGKILL" in message for message in messages), messages  # killed, not refused


CUDA_NEEDS = """import ctypes, sys, threading

LIBC = sys.modules["_kernel"].LIBC  # raw system calls, below the guards: what the kernel allows
LIBC.syscall.restype = ctypes.c_long
O_WRONLY, O_CREAT = 0o1, 0o100

def attempt(number, *args):
    return "refused" if LIBC.syscall(number, *args) < 0 else "allowed"

def write(path, flags):
    fd = LIBC.syscall(257, -100, path.encode(), flags, 0o600)  # openat
    return "refused" if fd < 0 or LIBC.syscall(1, fd, b"cuda", 4) < 0 else "allowed"

def probe():
    raise ValueError(repr({
        "memfd": attempt(319, b"cuda", 0),
        "shared map": attempt(9, 0, 4096, 3, 0x21, -1, 0),  # MAP_SHARED | MAP_ANONYMOUS
        "thread name": write(f"/proc/self/task/{threading.get_native_id()}/comm", O_WRONLY),
        "socket": attempt(41, 1, 1, 0),
        "/dev/shm": write("/dev/shm/cuda-probe", O_WRONLY | O_CREAT),
    }))
"""


@pytest.mark.parametrize("gpu", [False, True], ids=["cpu-worker", "gpu-worker"])
def test_a_gpu_worker_may_do_what_cuda_needs_and_no_more(gpu):
    """The CUDA driver creates a memfd, maps shared memory and names its threads while it
    starts (cuInit fails with error 304 without them): a GPU worker may, a CPU worker may
    not; neither may open a socket or write to /dev/shm."""
    from lossgrade.sandbox.learner import LearnerModule

    if platform.machine() != "x86_64":
        pytest.skip("the probe makes x86_64 system calls")
    with Sandbox(gpu=gpu) as box:
        if not box.walls()["landlock"]:
            pytest.skip("this kernel has no Landlock")
        learner = LearnerModule(box, "probe", {"probe.py": CUDA_NEEDS}, ("probe",))
        try:
            seen = eval(learner.call("probe").message)
        finally:
            learner.close()
    cuda = "allowed" if gpu else "refused"
    assert seen == {"memfd": cuda, "shared map": cuda, "thread name": cuda, "socket": "refused",
                    "/dev/shm": "refused"}


def test_a_deep_folder_is_cleaned_up_and_the_zygote_serves_on(sandbox, good):
    case = kernel_case("kernel_deep_folder")
    ex01 = exercise_for(case)
    baseline = good.baseline(ex01)
    assert runner.grade_exercise(sandbox, ex01, {ex01.file: case.source}, limits=Limits(call_seconds=10),
                                 scanned=False).score == 0  # the clean-up itself, past the source scan
    assert good.grade(ex01) == baseline  # the zygote survived its clean-up
    zygote = sorted(sandbox.own_processes())
    if os.geteuid() == 0 and zygote:  # its folders, seen through its own mount namespace
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _worker_folders(zygote[-1]):
            time.sleep(0.1)
        assert _worker_folders(zygote[-1]) == []


def _worker_folders(zygote: int) -> list[str]:
    found = []
    for root in Path(f"/proc/{zygote}/root/tmp").glob("lossgrade-zygote-*"):
        found += [p.name for p in root.iterdir()]
    return found


def _holders_of(name: str) -> set[int]:
    """Processes that hold a file called `name` open."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}").endswith("/" + name):
                    found.add(int(entry))
                    break
        except OSError:
            continue
    return found


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_learners_daemon_dies_with_the_grader_however_it_is_stopped(how, tmp_path):
    """A real `lossgrade check`, killed by a real signal while the learner's double-forked
    daemon (own session, ignoring signals) runs: nothing of it may survive."""
    case = kernel_case("kernel_orphan_daemon")
    exercise = exercise_for(case)
    (tmp_path / exercise.file).write_text(case.source)
    grader = subprocess.Popen([sys.executable, "-m", "lossgrade", "check", exercise.id, "-w", str(tmp_path),
                               "--timeout", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (daemons := _holders_of(MARKER)) and time.monotonic() < deadline:
            assert grader.poll() is None, "the grader ended before the daemon started"
            time.sleep(0.1)
        assert daemons, "the daemon never started"
        os.kill(grader.pid, how)  # the grader alone, not its process group
        grader.wait(timeout=30)
        deadline = time.monotonic() + 10
        while _holders_of(MARKER) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _holders_of(MARKER), f"the learner's daemon outlived the grader ({how.name})"
    finally:
        for pid in _holders_of(MARKER):
            os.kill(pid, signal.SIGKILL)
        if grader.poll() is None:
            grader.kill()
            grader.wait()


SLOW_BUT_RIGHT = """import time

def mse_loss(input, target, reduction="mean"):
    time.sleep(0.4)
    errors = (input - target) ** 2
    if input.shape != target.shape:
        raise ValueError("shapes differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction)
    return errors.mean() if reduction == "mean" else errors.sum() if reduction == "sum" else errors
"""


def test_a_slow_submission_stops_at_its_time_budget_through_check(tmp_path):
    """Right but slow: a budget across all of its calls, after which every check left
    fails at once, naming the budget (`lossgrade check --budget`)."""
    (tmp_path / "ex01_mse.py").write_text(SLOW_BUT_RIGHT)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "lossgrade", "check", "ex01", "-w", str(tmp_path), "--json",
                           "--timeout", "5", "--budget", "2"], capture_output=True, check=False, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    (result,) = json.loads(done.stdout)
    messages = json.dumps(result)
    assert "time budget of 2 s ran out" in messages
    assert 0 < result["score"] < 10
    assert time.monotonic() - started < 60


def test_the_budget_is_shared_by_every_exercise_of_a_batch_submission(sandbox):
    from lossgrade.sandbox.budget import submission_budget

    ex01 = catalog.resolve("ex01")
    with submission_budget(1.0) as budget:
        first = runner.grade_exercise(sandbox, ex01, {ex01.file: SLOW_BUT_RIGHT})
        second = runner.grade_exercise(sandbox, ex01, {ex01.file: SLOW_BUT_RIGHT})
    assert budget is not None and budget.left() <= 0
    assert first.score < ex01.points and second.score == 0
    assert all("time budget of 1 s ran out" in c.feedback.message for c in second.checks if c.feedback and
               c.outcome.value != "skipped")


def test_a_slow_submission_stops_at_its_time_budget_through_grade_and_the_class_is_graded(tmp_path):
    """`lossgrade grade --budget`: the slow-but-right submission's checks past its budget
    fail, naming it; the learners before and after it get their full grade."""
    ex01 = catalog.resolve("ex01")
    good = (SOLUTIONS / ex01.file).read_text()
    for learner, source in [("ada", good), ("slow", SLOW_BUT_RIGHT), ("zoe", good)]:
        (tmp_path / "class" / learner).mkdir(parents=True)
        (tmp_path / "class" / learner / ex01.file).write_text(source)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "lossgrade", "grade", str(tmp_path / "class"), "--out",
                           str(tmp_path / "out"), "-e", "ex01", "--jobs", "1", "--budget", "2"],
                          capture_output=True, check=False, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    records = {r["learner"]: r for r in json.loads((tmp_path / "out" / "gradebook.json").read_text())["records"]}
    assert records["ada"]["score"] == records["zoe"]["score"] == ex01.points
    slow = records["slow"]
    assert 0 < slow["score"] < ex01.points
    assert any("time budget of 2 s ran out" in (c["feedback"] or {}).get("message", "") for c in slow["checks"])
    assert time.monotonic() - started < 300  # not ~170 calls of 0.4 s each on top of the class
    # Graded again with a budget it fits in: not the record cut short by the first one.
    again = subprocess.run([sys.executable, "-m", "lossgrade", "grade", str(tmp_path / "class"), "--out",
                            str(tmp_path / "out"), "-e", "ex01", "--jobs", "1", "--budget", "600"],
                           capture_output=True, check=False, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    regraded = {r["learner"]: r for r in json.loads((tmp_path / "out" / "gradebook.json").read_text())["records"]}
    assert regraded["slow"]["score"] > slow["score"]
    assert not any("time budget" in (c["feedback"] or {}).get("message", "") for c in regraded["slow"]["checks"])


PRIVATE_ROOT = """set -e
mkdir -p "$ORIG"
mount --bind /root "$ORIG"
mount -t tmpfs -o mode=700 tmpfs /root
for entry in "$ORIG"/.[!.]* "$ORIG"/*; do
  [ -e "$entry" ] || continue
  name=$(basename "$entry"); if [ -d "$entry" ]; then mkdir "/root/$name"; else touch "/root/$name"; fi
  mount --bind "$entry" "/root/$name"
done
stat -c %a /root
"$PYTHON" -m lossgrade check ex01 -w "$WORK" --json
stat -c %a /root
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the private-Python set-up is root's")
def test_root_with_python_under_a_private_home_needs_no_chmod(tmp_path):
    """As root, on a fresh machine whose /root is mode 700 (seen in a mount namespace of the
    test's own): `lossgrade check` grades, and /root is opened to the workers' group alone."""
    if not Path("/usr/bin/unshare").exists():
        pytest.skip("util-linux's unshare is not installed")
    work = tmp_path / "work"
    work.mkdir()
    (work / "ex01_mse.py").write_text((SOLUTIONS / "ex01_mse.py").read_text())
    env = {**os.environ, "ORIG": str(tmp_path / "orig"), "WORK": str(work), "PYTHON": sys.executable}
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", PRIVATE_ROOT], env=env,
                          capture_output=True, check=False, text=True, timeout=300)
    if "mount: " in done.stderr and done.returncode != 0 and "lossgrade" not in done.stderr:
        pytest.skip(f"no mount namespace here: {done.stderr.strip()[-200:]}")
    before, rest = done.stdout.split("\n", 1)
    output, after = rest.rsplit("\n", 2)[0], rest.rsplit("\n", 2)[1]
    assert before == "700", done.stderr
    assert json.loads(output)[0]["score"] == 10.0, done.stderr
    assert int(after, 8) & 0o001 == 0  # others still may not enter: only the workers' group


CHECKOUT = Path(__file__).resolve().parents[2]  # this checkout: solutions/, examples/, .git, the package


@pytest.mark.skipif(not strong.available()[0], reason=strong.available()[1])
def test_strong_mode_shows_workers_no_course_checkout_and_no_home():
    """Under --strong, the checkout holding the grader is not there at all: not its
    solutions/, examples/, .git or README (not even as names whose existence could be
    tested, which Landlock alone allows), nor the home folder; only the package's sandbox/
    folder is bound in, for the zygote, and Landlock keeps the worker out of it."""
    from lossgrade.sandbox.host import SANDBOX_DIR
    from lossgrade.sandbox.learner import LearnerModule

    home = Path.home()
    python = strong.python_folders()  # bound in: a home entry on the way to Python stays
    home_entries = sorted(str(home / name) for name in os.listdir(home)
                          if not any(home / name == p or home / name in p.parents for p in python))
    assert (CHECKOUT / "solutions").is_dir() and (CHECKOUT / "examples").is_dir() and (CHECKOUT / ".git").exists()
    paths = [str(CHECKOUT / name) for name in ("solutions", "examples", ".git", "README.md", "pyproject.toml",
                                               "tests", "exercises")] + home_entries
    source = f"""import os

def probe():
    seen = [p for p in {paths!r} if os.path.lexists(p)]
    try:
        listed = os.listdir({str(SANDBOX_DIR)!r})
    except OSError:
        listed = []
    raise ValueError(repr((seen, listed)))
"""
    with open_sandbox(strong=True) as box:
        learner = LearnerModule(box, "probe", {"probe.py": source}, ("probe",))
        try:
            seen, listed = eval(learner.call("probe").message)
        finally:
            learner.close()
        case = kernel_case("kernel_course_checkout")
        exercise = exercise_for(case)
        result = runner.grade_exercise(box, exercise, {exercise.file: case.source}, limits=Limits(call_seconds=case.timeout),
                                       scanned=False)  # the mount itself, past the source scan
    assert seen == []
    assert listed == []  # the zygote's code is there, but closed to workers
    assert result.score == 0.0

"""The CUDA paths, where torch sees a GPU (each test skips with the reason elsewhere): checks
run on cuda and pass for the references, a result left on the CPU fails on cuda alone,
forbidden operators are refused through their CUDA kernels, a worker that used the GPU keeps
its memory limit, and batch grading reaches the GPU from every grader."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.core.results import Outcome
from lossgrade.sandbox.client import Limits
from test_sandbox import BIG_ALLOCATIONS, OPERATOR_CALLS, OPERATORS, probe, report

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    torch.cuda.device_count() == 0,  # asked through NVML: this test session may still fork
    reason="CUDA is not available on this machine (torch.cuda.device_count() is 0)")
ON_CUDA = [e.id for e in catalog.exercises() if any(c.devices for c in runner.checks_for(e).all)]


def test_the_checks_run_on_cuda():
    assert runner.devices() == ("cpu", "cuda")
    assert set(ON_CUDA) >= {"ex01", "ex02", "ex03", "ex04", "ex05", "ex06", "ex07", "ex09", "ex10", "ex11"}


@pytest.mark.parametrize("exercise_id", ON_CUDA)
def test_every_reference_passes_its_cuda_checks(sandbox, exercise_id):
    exercise = catalog.resolve(exercise_id)
    result = runner.grade_exercise(sandbox, exercise, runner.learner_files(exercise.solution_path.parent, exercise))
    on_cuda = {c.id: c.outcome for c in result.checks if c.id.endswith("[cuda]")}
    assert len(on_cuda) == sum(c.devices for c in runner.checks_for(exercise).all)
    assert set(on_cuda.values()) == {Outcome.PASSED}, [(c.id, c.feedback) for c in result.checks
                                                        if c.outcome is not Outcome.PASSED]


def test_a_result_left_on_the_cpu_fails_on_cuda_only(grade_source):
    source = (REPO / "solutions" / "ex01_mse.py").read_text()
    source = source.replace("    squared = (input - target) ** 2\n", "    squared = ((input - target) ** 2).cpu()\n")
    result = grade_source("ex01", source)
    failed = {c.id: c.feedback.message for c in result.checks if c.outcome is Outcome.FAILED}
    assert failed and all(check.endswith("[cuda]") for check in failed)
    assert all("is on cpu but the inputs were on cuda" in message for message in failed.values())


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_every_guarded_operator_is_refused_through_its_cuda_kernel(sandbox, operator):
    name = OPERATORS[operator][0]
    source = ("import torch\n\ndef probe(x, labels):\n    with torch.inference_mode():\n"
              f"        return {OPERATOR_CALLS[operator]}\n")
    args = (torch.randn(2, 3), torch.tensor([0, 2]))
    reply = probe(sandbox, source, *args, forbidden=(name,), device="cuda")
    assert reply.violations == (f"{name} (reached through the operator aten.{operator})",)
    allowed = probe(sandbox, source, *args, device="cuda")
    assert allowed.kind == "tensor" and allowed.device.startswith("cuda") and not allowed.violations


def test_a_worker_that_used_the_gpu_keeps_its_memory_limit(sandbox):
    on_gpu = 'assert torch.ones(1 << 20, device="cuda").sum().item() == 1 << 20\n'
    assert report(sandbox, on_gpu + BIG_ALLOCATIONS, limits=Limits(memory_mib=2048)) == "refused 8 GiB after 256 MiB"


def test_asking_for_the_devices_leaves_cuda_to_forked_children():
    script = textwrap.dedent("""
        import os, torch
        from lossgrade.grading import runner
        assert runner.devices() == ("cpu", "cuda")
        pid = os.fork()
        if pid == 0:
            os._exit(0 if torch.ones(2, device="cuda").sum().item() == 2 else 1)
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "0", done.stderr


def test_batch_grading_runs_the_cuda_checks_in_every_grader(tmp_path):
    """Through the real command, in a fresh process: its graders are spawned, not forked."""
    for learner in ("ada", "ben", "cleo"):
        (tmp_path / "class" / learner).mkdir(parents=True)
        (tmp_path / "class" / learner / "ex01_mse.py").write_text((REPO / "solutions" / "ex01_mse.py").read_text())
    done = subprocess.run([sys.executable, "-m", "lossgrade", "grade", str(tmp_path / "class"), "--out",
                           str(tmp_path / "out"), "-e", "ex01", "--jobs", "2"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    records = json.loads((tmp_path / "out" / "gradebook.json").read_text())["records"]
    outcomes = [check["outcome"] for record in records for check in record["checks"] if check["id"].endswith("[cuda]")]
    assert len(outcomes) == 3 * 3 and set(outcomes) == {"passed"}, records


def test_cuda_starts_under_the_kernels_walls_and_pinned_memory_is_bounded(sandbox):
    """CUDA initialises in a worker under Landlock and the GPU seccomp filter (memfd, shared
    maps and its threads' names allowed), and pinned host memory, which RLIMIT_DATA does
    not count, ends the worker past its limit (the zygote's watch)."""
    walls = sandbox.walls()
    if walls["landlock"]:
        assert walls["seccomp"]
    on_gpu = 'raise ValueError(str(torch.ones(1 << 20, device="cuda").sum().item()))\n'
    assert report(sandbox, on_gpu) == str(float(1 << 20))
    pinned = 'kept = [torch.ones(256 << 20, dtype=torch.uint8).pin_memory() for _ in range(12)]\nraise ValueError("no limit")\n'
    reply = probe(sandbox, "import torch\n\ndef probe():\n" + "".join(f"    {line}\n" for line in pinned.splitlines()),
                  limits=Limits(memory_mib=1024, call_seconds=60))
    assert reply.kind == "crashed" and "SIGKILL" in reply.message, reply

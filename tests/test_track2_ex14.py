"""Exercise 14 (the Gaussian negative log-likelihood), end to end.

The reference equals torch on PyTorch's own OpInfo samples of
`nn.functional.gaussian_nll_loss` (values in every dtype torch lists, gradients for
input, target and var in float32 and float64) and refuses its error inputs with torch's
error types; the stub fails every check as not started and the reference passes them
through the real command line; every catalogued mistake fails a check and is the only one
named; the course's self-check finds no problem with ex14 and every claim of its prose holds.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import types
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from lossgrade import misconceptions
from lossgrade.course import catalog
from lossgrade.grading import selfcheck
from lossgrade.cli.main import cli
from lossgrade.quiz import claims
from lossgrade.core.results import Outcome
from lossgrade.grading.service import open_sandbox

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "ex14"
FILE = "ex14_gaussian_nll.py"
MODULE = "ex14_gaussian_nll"


def _reference() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("_reference_ex14_track2", ROOT / "solutions" / FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFERENCE = _reference()


def _opinfo():
    """OpInfo's entry; its import warns when `hypothesis` is missing (not an error here) and
    needs `expecttest` (in the test extras)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from torch.testing._internal.common_methods_invocations import op_db
    except Exception as exc:  # noqa: BLE001 - an internal API that a torch build may lack
        pytest.skip(f"torch.testing._internal is not importable here: {exc!r}")
    [op] = [o for o in op_db if o.name == "nn.functional.gaussian_nll_loss" and not o.variant_test_name]
    return op


def _samples(device: str, dtype: torch.dtype) -> list:
    return list(_opinfo().sample_inputs(device, dtype, requires_grad=dtype.is_floating_point))


def _fresh(value):
    return value.detach().clone().requires_grad_(value.requires_grad) if isinstance(value, torch.Tensor) else value


def _compare_with_torch(device: str, dtype: torch.dtype, grads: bool) -> int:
    compared = 0
    for sample in _samples(device, dtype):
        args = [sample.input, *sample.args]
        expected = F.gaussian_nll_loss(*args, **sample.kwargs)
        mine_args = [_fresh(a) for a in args]
        got = REFERENCE.gaussian_nll_loss(*mine_args, **sample.kwargs)
        assert got.dtype == expected.dtype and got.device == expected.device, sample
        torch.testing.assert_close(got, expected, equal_nan=True, msg=lambda m, s=sample: f"{s}: {m}")
        if grads:
            upstream = torch.randn_like(expected)
            wanted = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
            mine = [a for a in mine_args if isinstance(a, torch.Tensor) and a.requires_grad]
            for g, e in zip(torch.autograd.grad(got, mine, upstream), torch.autograd.grad(expected, wanted, upstream)):
                torch.testing.assert_close(g, e, msg=lambda m, s=sample: f"gradient, {s}: {m}")
        compared += 1
    return compared


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_reference_equals_torch_on_opinfo_samples_with_gradients(dtype):
    assert _compare_with_torch("cpu", dtype, grads=True) == 324


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_reference_equals_torch_on_opinfo_samples_in_half_precision(dtype):
    assert _compare_with_torch("cpu", dtype, grads=False) == 324


def test_reference_refuses_opinfo_error_inputs_as_torch_does():
    errors = list(_opinfo().error_inputs("cpu"))
    assert len(errors) == 3
    for error in errors:
        sample = error.sample_input
        with pytest.raises(error.error_type):
            F.gaussian_nll_loss(sample.input, *sample.args, **sample.kwargs)
        with pytest.raises(error.error_type):
            REFERENCE.gaussian_nll_loss(sample.input, *sample.args, **sample.kwargs)


@pytest.mark.parametrize("shape, var, message", [
    ((3,), torch.tensor([1.0, -0.5, 2.0]), "negative"), ((4, 3), -1.0, "negative"),
    ((4, 3), torch.ones(1, 1), "shape"), ((4, 3), torch.ones(3), "shape"), ((4, 3), torch.ones(()), "shape"),
    ((2, 3, 4), torch.ones(3, 4), "shape"),
])
def test_reference_refuses_what_torch_refuses(shape, var, message):
    x = torch.zeros(shape)
    with pytest.raises(ValueError):
        F.gaussian_nll_loss(x, x, var)
    with pytest.raises(ValueError, match=message):
        REFERENCE.gaussian_nll_loss(x, x, var)


def test_reference_gradient_flows_through_the_eps_clamp():
    """var 1e-8 and error 0.1: the gradient with respect to var is about -5e9 in both."""
    mine, theirs = (torch.tensor([1e-8, 0.5], requires_grad=True) for _ in range(2))
    x, y = torch.tensor([0.1, 0.2]), torch.zeros(2)
    REFERENCE.gaussian_nll_loss(x, y, mine, reduction="sum").backward()
    F.gaussian_nll_loss(x, y, theirs, reduction="sum").backward()
    torch.testing.assert_close(mine.grad, theirs.grad)
    assert mine.grad[0].item() == pytest.approx(-5e9, rel=1e-3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine")
def test_reference_equals_torch_on_opinfo_samples_on_cuda():
    assert _compare_with_torch("cuda", torch.float32, grads=True) == 324
    assert _compare_with_torch("cuda", torch.float16, grads=False) == 324


# --- through the grader ----------------------------------------------------------------
def _check(work: Path) -> dict:
    result = CliRunner().invoke(cli, ["check", EXERCISE, "--json", "-w", str(work)])
    assert result.exit_code in (0, 1), result.output
    [exercise] = json.loads(result.stdout)
    return exercise


def test_stub_fails_every_check_as_not_started(tmp_path):
    shutil.copy(ROOT / "exercises" / FILE, tmp_path / FILE)
    exercise = _check(tmp_path)
    outcomes = {check["outcome"] for check in exercise["checks"]}
    assert outcomes <= {"not started", "skipped"} and "not started" in outcomes, exercise["checks"]
    assert exercise["score"] == 0


def test_solution_passes_through_the_real_cli(tmp_path):
    shutil.copy(ROOT / "solutions" / FILE, tmp_path / FILE)
    result = CliRunner().invoke(cli, ["check", EXERCISE, "--json", "-w", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [exercise] = json.loads(result.stdout)
    assert exercise["status"] == "passed" and exercise["score"] == exercise["max_score"] == 15
    assert {c["outcome"] for c in exercise["checks"]} <= {"passed", "skipped"}
    assert len([c for c in exercise["checks"] if c["outcome"] == "passed"]) >= 12


def test_solution_passes_through_a_subprocess(tmp_path):
    """`lossgrade check` as a learner runs it, in its own process."""
    import subprocess

    shutil.copy(ROOT / "solutions" / FILE, tmp_path / FILE)
    done = subprocess.run([sys.executable, "-m", "lossgrade", "check", EXERCISE, "-w", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "15/15 points" in done.stdout


def test_forbidden_torch_function_is_refused(tmp_path):
    (tmp_path / FILE).write_text(
        "import torch.nn.functional as F\n\n"
        "def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction='mean'):\n"
        "    return F.gaussian_nll_loss(input, target, var, full=full, eps=eps, reduction=reduction)\n")
    exercise = _check(tmp_path)
    assert exercise["status"] != "passed" and exercise["score"] == 0


MISTAKES = [m for m in misconceptions.catalogue(MODULE) if m.wrong is not None]


def test_the_catalogue_is_the_one_this_test_expects():
    ids = {m.id for m in MISTAKES}
    for expected in ("ex14.std-not-variance", "ex14.missing-half", "ex14.clamp-kills-gradient",
                     "ex14.negative-var-not-refused", "ex14.sum-not-mean", "ex14.nll-floored-at-zero",
                     "ex14.shared-var-wrong-axis", "ex14.var-shape-not-checked", "ex14.full-ignored"):
        assert expected in ids
    assert len(MISTAKES) >= 20


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.id)
def test_every_mistake_is_caught_and_named_alone(mistake):
    result = selfcheck.grade_mistake(catalog.resolve(EXERCISE), mistake.function, mistake.wrong)
    failed = [c for c in result.checks if c.outcome is Outcome.FAILED]
    assert failed, f"{mistake.id} passes every check"
    named = {c.misconception.id for c in result.checks if c.misconception}
    assert named == {mistake.id}, f"{mistake.id}: named {sorted(named)}"


@pytest.mark.parametrize("secret_byte", [0x5A, 0xC3])
def test_every_mistake_is_named_alone_on_other_secrets_inputs_too(secret_byte):
    """Learners' inputs come from their grading secret: naming must not hang on one draw."""
    from lossgrade.checks import secret

    exercise = catalog.resolve(EXERCISE)
    with secret.chosen(bytes([secret_byte]) * 32):
        for mistake in MISTAKES:
            result = selfcheck.grade_mistake(exercise, mistake.function, mistake.wrong)
            named = {c.misconception.id for c in result.checks if c.misconception}
            assert named == {mistake.id}, f"{mistake.id}: named {sorted(named)}"


def test_course_self_check_of_ex14_finds_no_problem():
    exercise = catalog.resolve(EXERCISE)
    report = selfcheck.Report()
    with open_sandbox([exercise]) as sandbox:
        selfcheck.check_exercise(sandbox, exercise, report)
    assert report.problems == []
    assert report.caught == report.catalogued == len(MISTAKES)


def test_every_claim_of_ex14_holds():
    root = catalog.resolve(EXERCISE).root
    found = claims.read_file_claims(root / "exercises" / "ex14_gaussian_nll.claims.yaml", root, builtin=True)
    assert found.problems == []
    assert len(found.claims) >= 15
    assert claims.check(found.claims) == []


def test_a_correct_file_may_use_torch_broadcast_shapes(tmp_path):
    source = (ROOT / "solutions" / FILE).read_text(encoding="utf-8")
    source = source.replace("    if reduction not in REDUCTIONS:",
                            "    torch.broadcast_shapes(input.shape, target.shape, var.shape)\n"
                            "    if reduction not in REDUCTIONS:", 1)
    assert "broadcast_shapes" in source
    (tmp_path / FILE).write_text(source, encoding="utf-8")
    exercise = _check(tmp_path)
    assert exercise["status"] == "passed", [c["feedback"] for c in exercise["checks"] if c["outcome"] != "passed"]

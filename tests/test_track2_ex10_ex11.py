"""Second track, ex10 (kl_div, distillation) and ex11 (sequence cross-entropy, next-token
targets): the references equal torch on PyTorch's own OpInfo sample inputs, the stub and
the reference go through the real CLI, every catalogued mistake is caught and named alone,
and torch's functions that the exercises re-implement are refused in learner code.

ex11's contract is narrower than `F.cross_entropy`'s ((N, T, C) logits, class indices, a
mean, no weight), so torch's samples are adapted, and each adaptation is written out below:
an (N, C) input becomes one sequence of N tokens, (1, N, C); an (N, C, d1, ..., dk) input
moves its classes last and flattens d1..dk into T; nll_loss's inputs are taken as logits
and compared with `F.nll_loss(F.log_softmax(input, 1), ...)`. Samples with a class weight,
probability targets or reduction "sum"/"none" do not fit the contract and are left out
(counted, so that a change in torch's samples that leaves nothing to compare fails).
"""
from __future__ import annotations

import importlib.util
import re
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
from lossgrade.quiz import library
from lossgrade.core.results import ExerciseResult, Outcome

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = {"ex10": "ex10_kl_divergence", "ex11": "ex11_sequence_ce"}
MISTAKES = [(exercise, mistake) for exercise, module in EXERCISES.items()
            for mistake in misconceptions.catalogue(module)]


def _solution(stem: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"_track2_{stem}", ROOT / "solutions" / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ex10 = _solution("ex10_kl_divergence")
ex11 = _solution("ex11_sequence_ce")


def _assert_equal(got: torch.Tensor, want: torch.Tensor) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    torch.testing.assert_close(got, want, equal_nan=True, rtol=1e-7, atol=1e-9)


def _same_value_and_grad(ours, theirs, inputs: tuple[torch.Tensor, ...], grad_of: tuple[int, ...]) -> None:
    """Values equal; gradients of <output, random upstream> equal for the inputs in grad_of."""
    mine = [t.detach().clone().requires_grad_(i in grad_of) for i, t in enumerate(inputs)]
    ref = [t.detach().clone().requires_grad_(i in grad_of) for i, t in enumerate(inputs)]
    out, expected = ours(*mine), theirs(*ref)
    _assert_equal(out, expected)
    if expected.isnan().any():
        return
    upstream = torch.randn(expected.shape, dtype=expected.dtype, generator=torch.Generator().manual_seed(5))
    got = torch.autograd.grad((out * upstream).sum(), [mine[i] for i in grad_of])
    want = torch.autograd.grad((expected * upstream).sum(), [ref[i] for i in grad_of])
    for g, w in zip(got, want, strict=True):
        _assert_equal(g, w)


@pytest.fixture(scope="module")
def op_db():
    """torch's OpInfo database; its import needs internal modules that may change between
    releases, so any failure skips with the reason."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from torch.testing._internal.common_methods_invocations import op_db as found
    except Exception as exc:  # noqa: BLE001 - ImportError, or anything the internals raise
        pytest.skip(f"torch.testing._internal is not importable here: {exc!r}")
    return found


def _samples(op_db, name: str, dtype: torch.dtype = torch.float64) -> list:
    ops = [op for op in op_db if op.name == name]
    if not ops:
        pytest.skip(f"op_db has no entry for {name}")
    samples = list(ops[0].sample_inputs("cpu", dtype, requires_grad=False))
    assert samples
    return samples


# --- ex10 on torch's own inputs ------------------------------------------------------------
def test_kl_div_equals_torch_on_its_opinfo_samples(op_db):
    samples = _samples(op_db, "nn.functional.kl_div")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's warning about reduction="mean"
        for sample in samples:
            target = sample.args[0]
            _same_value_and_grad(lambda x, y, kw=sample.kwargs: ex10.kl_div(x, y, **kw),
                                 lambda x, y, kw=sample.kwargs: F.kl_div(x, y, **kw), (sample.input, target),
                                 grad_of=(0, 1))
    assert {s.kwargs["reduction"] for s in samples} == {"none", "mean", "batchmean", "sum"}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_kl_div_keeps_low_precision_dtypes_like_torch(dtype):
    gen = torch.Generator().manual_seed(1)
    x = torch.log_softmax(torch.randn(4, 5, generator=gen), -1).to(dtype)
    y = torch.softmax(torch.randn(4, 5, generator=gen), -1).to(dtype)
    y[0, 2] = 0
    for reduction in ("none", "sum", "batchmean"):
        got, want = ex10.kl_div(x, y, reduction), F.kl_div(x, y, reduction=reduction)
        assert got.dtype == want.dtype == dtype
        torch.testing.assert_close(got.float(), want.float(), rtol=2e-2, atol=2e-2)


def test_kl_div_edge_cases_and_refusals_equal_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        empty = torch.zeros(0, 3)
        for reduction in ("none", "sum", "mean", "batchmean"):
            _assert_equal(ex10.kl_div(empty, empty, reduction), F.kl_div(empty, empty, reduction=reduction))
        scalar = (torch.tensor(-0.7, dtype=torch.float64), torch.tensor(0.3, dtype=torch.float64))
        _assert_equal(ex10.kl_div(*scalar, "batchmean"), F.kl_div(*scalar, reduction="batchmean"))
        broadcast = (torch.log_softmax(torch.randn(2, 3, dtype=torch.float64), -1), torch.full((3,), 1 / 3.0,
                                                                                              dtype=torch.float64))
        _assert_equal(ex10.kl_div(*broadcast, "batchmean"), F.kl_div(*broadcast, reduction="batchmean"))
    for reduction in ("average", "batch_mean"):
        with pytest.raises(ValueError):
            F.kl_div(torch.zeros(2), torch.zeros(2), reduction=reduction)
        with pytest.raises(ValueError, match=reduction):
            ex10.kl_div(torch.zeros(2), torch.zeros(2), reduction)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0, 7.0])
def test_distillation_loss_is_t_squared_batchmean_kl_of_softened_distributions(temperature):
    gen = torch.Generator().manual_seed(3)
    student = torch.randn(6, 5, dtype=torch.float64, generator=gen) * 3
    teacher = torch.randn(6, 5, dtype=torch.float64, generator=gen) * 3

    def hinton(s, t):
        return temperature ** 2 * F.kl_div(F.log_softmax(s / temperature, dim=1), F.softmax(t / temperature, dim=1),
                                           reduction="batchmean")

    _same_value_and_grad(lambda s, t: ex10.distillation_loss(s, t, temperature), hinton, (student, teacher),
                         grad_of=(0, 1))
    big = torch.tensor([[1e4, -1e4, 0.0]], dtype=torch.float64)
    assert torch.isfinite(ex10.distillation_loss(big, big.flip(-1), temperature))
    with pytest.raises(ValueError, match="temperature"):
        ex10.distillation_loss(student, teacher, 0.0)


# --- ex11 on torch's own inputs, adapted to (N, T, C) ----------------------------------------
def _as_sequences(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """torch's class-index layouts as (N, T, C) logits and (N, T) targets (see the module's
    docstring): (C,) -> (1, 1, C); (N, C) -> (1, N, C); (N, C, d1..dk) -> (N, d1*..*dk, C)."""
    if logits.dim() == 1:
        return logits.reshape(1, 1, -1), target.reshape(1, 1)
    if logits.dim() == 2:
        return logits.unsqueeze(0), target.unsqueeze(0)
    classes_last = logits.movedim(1, -1)
    return classes_last.reshape(logits.shape[0], -1, logits.shape[1]), target.reshape(target.shape[0], -1)


def _fits(sample) -> bool:
    target = sample.args[0]
    return (not target.is_floating_point() and sample.kwargs.get("weight") is None
            and sample.kwargs.get("reduction", "mean") == "mean" and not sample.kwargs.get("label_smoothing"))


@pytest.mark.parametrize("name", ["nn.functional.cross_entropy", "nn.functional.nll_loss"])
def test_sequence_cross_entropy_equals_torch_on_its_opinfo_samples(op_db, name):
    samples = _samples(op_db, name)
    fitting = [s for s in samples if _fits(s)]
    assert len(fitting) >= 3, f"only {len(fitting)} of {len(samples)} samples of {name} fit the contract"

    for sample in fitting:
        ignore = sample.kwargs.get("ignore_index", -100)
        target = sample.args[0]

        def torchs(x, t=target, ignore=ignore):
            if name.endswith("nll_loss"):  # the sample's input, taken as logits
                return F.nll_loss(F.log_softmax(x, dim=0 if x.dim() == 1 else 1), t, ignore_index=ignore)
            return F.cross_entropy(x, t, ignore_index=ignore)

        def ours(x, t=target, ignore=ignore):
            logits, targets = _as_sequences(x, t)
            return ex11.sequence_cross_entropy(logits, targets, ignore_index=ignore)

        _same_value_and_grad(ours, torchs, (sample.input,), grad_of=(0,))

        # per sequence: the mean over the sequences (with a real token) of torch's mean on each
        logits, targets = _as_sequences(sample.input, target)
        means = [F.cross_entropy(logits[n], targets[n], ignore_index=ignore) for n in range(logits.shape[0])
                 if bool((targets[n] != ignore).any())]
        expected = torch.stack(means).mean() if means else torch.tensor(float("nan"), dtype=logits.dtype)
        _assert_equal(ex11.sequence_cross_entropy(logits, targets, ignore_index=ignore, per="sequence"), expected)


def test_sequence_cross_entropy_edge_cases_equal_torch():
    gen = torch.Generator().manual_seed(2)
    logits = torch.randn(3, 4, 5, dtype=torch.float64, generator=gen)
    targets = torch.randint(0, 5, (3, 4), generator=gen)
    targets[1] = -100  # one sequence all padding
    targets[2, 2:] = -100
    for padded in (targets, torch.full((3, 4), -100)):
        _same_value_and_grad(lambda x, t=padded: ex11.sequence_cross_entropy(x, t),
                             lambda x, t=padded: F.cross_entropy(x.transpose(1, 2), t), (logits,), grad_of=(0,))
    seq = ex11.sequence_cross_entropy(logits, targets, per="sequence")
    expected = (F.cross_entropy(logits[0], targets[0]) + F.cross_entropy(logits[2], targets[2])) / 2
    _assert_equal(seq, expected)  # the empty sequence is left out, not nan
    assert torch.isnan(ex11.sequence_cross_entropy(logits, torch.full((3, 4), -100), per="sequence"))
    for empty in ((torch.zeros(0, 4, 5), torch.zeros(0, 4, dtype=torch.long)),
                  (torch.zeros(2, 0, 5), torch.zeros(2, 0, dtype=torch.long))):
        _assert_equal(ex11.sequence_cross_entropy(*empty), F.cross_entropy(empty[0].transpose(1, 2), empty[1]))
    big = torch.tensor([[[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]]])
    _assert_equal(ex11.sequence_cross_entropy(big, torch.tensor([[1, 2]])),
                  F.cross_entropy(big.transpose(1, 2), torch.tensor([[1, 2]])))
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        ex11.sequence_cross_entropy(logits, torch.full((3, 4), 7))
    with pytest.raises(ValueError, match=re.escape("(3, 4, 5)") + ".*" + re.escape("(3, 3)")):
        ex11.sequence_cross_entropy(logits, targets[:, :3])
    with pytest.raises(ValueError, match="per"):
        ex11.sequence_cross_entropy(logits, targets, per="sentence")


def test_next_token_targets_shift_left_and_pad_the_end():
    tokens = torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0]])
    before = tokens.clone()
    assert ex11.next_token_targets(tokens, 0).tolist() == [[6, 7, 0, 0], [9, 0, 0, 0]]
    assert torch.equal(tokens, before)
    assert ex11.next_token_targets(tokens, -100)[:, -1].tolist() == [-100, -100]
    assert ex11.next_token_targets(torch.tensor([[3]]), 9).tolist() == [[9]]
    with pytest.raises(ValueError):
        ex11.next_token_targets(torch.tensor([1, 2, 3]), 0)
    # the shift makes position t's loss that of predicting token t + 1
    logits = torch.randn(2, 4, 10, dtype=torch.float64)
    targets = ex11.next_token_targets(tokens, 0)
    by_hand = F.cross_entropy(logits[:, :-1].reshape(-1, 10), tokens[:, 1:].reshape(-1), ignore_index=0)
    _assert_equal(ex11.sequence_cross_entropy(logits, targets, ignore_index=0), by_hand)


# --- the catalogue ---------------------------------------------------------------------------
def _failed(result: ExerciseResult) -> list:
    return [c for c in result.checks if c.outcome not in (Outcome.PASSED, Outcome.SKIPPED)]


@pytest.mark.parametrize("exercise, mistake", MISTAKES, ids=[m.id for _, m in MISTAKES])
def test_every_catalogued_mistake_is_caught_and_named_alone(exercise, mistake):
    failed = _failed(selfcheck.grade_mistake(catalog.resolve(exercise), mistake.function, mistake.wrong))
    assert failed, f"{mistake.id} passes every check"
    named = {c.id: c.misconception.id for c in failed if c.misconception}
    assert mistake.id in named.values(), f"{mistake.id} is never named; failing checks: {[c.id for c in failed]}"
    assert set(named.values()) == {mistake.id}, f"{mistake.id} is mistaken for another: {named}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_catalogue_entries_are_well_formed_and_link_to_quiz_questions(exercise):
    mistakes = misconceptions.catalogue(EXERCISES[exercise])
    functions = catalog.resolve(exercise).functions
    questions = library.question_ids()
    assert len(mistakes) >= 10
    assert {m.function for m in mistakes} == set(functions)  # every function has its mistakes
    assert len({(m.id, m.function) for m in mistakes}) == len(mistakes)  # a shared id once per function
    for mistake in mistakes:
        assert re.fullmatch(rf"{exercise}\.[a-z0-9]+(-[a-z0-9]+)*", mistake.id), mistake.id
        assert callable(mistake.wrong) and "\n" not in mistake.name and mistake.message.endswith(".")
        quiz, _, question = (mistake.quiz or "").partition("#")
        assert question in questions.get(quiz, []), f"{mistake.id}: no quiz question {mistake.quiz}"
    assert catalog.resolve(exercise).quiz == "kl-and-sequences"


def test_the_checks_use_only_the_public_instructor_api():
    allowed = {"lossgrade.checks.framework", "lossgrade.checks.naming", "lossgrade.misconceptions"}
    for folder in ("checks", "misconceptions"):
        for module in EXERCISES.values():
            text = (ROOT / "grader" / folder / f"{module}.py").read_text()
            used = set(re.findall(r"^from (lossgrade[\w.]*) import", text, re.MULTILINE))
            used |= set(re.findall(r"^import (lossgrade[\w.]*)", text, re.MULTILINE))
            assert used <= allowed, f"{folder}/{module}.py imports {sorted(used - allowed)}"


# --- learner code through the sandbox and the CLI --------------------------------------------
FORBIDDEN = [
    ("ex10", "import torch.nn.functional as F\n"
             "def kl_div(input, target, reduction='mean', log_target=False):\n"
             "    return F.kl_div(input, target, reduction=reduction, log_target=log_target)\n"
             "def distillation_loss(s, t, temperature):\n"
             "    return torch.nn.KLDivLoss(reduction='batchmean')(torch.log_softmax(s / temperature, -1),\n"
             "        torch.softmax(t / temperature, -1)) * temperature ** 2\n", "kl_div"),
    ("ex11", "import torch.nn.functional as F\n"
             "def sequence_cross_entropy(logits, targets, ignore_index=-100, per='token'):\n"
             "    return F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=ignore_index)\n"
             "def next_token_targets(tokens, pad):\n"
             "    return torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], pad)], 1)\n", "cross_entropy"),
    ("ex11", "import torch.nn.functional as F\n"
             "def sequence_cross_entropy(logits, targets, ignore_index=-100, per='token'):\n"
             "    lp = torch.log_softmax(logits, -1).transpose(1, 2)\n"
             "    return F.nll_loss(lp, targets, ignore_index=ignore_index)\n"
             "def next_token_targets(tokens, pad):\n"
             "    return torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], pad)], 1)\n", "nll_loss"),
    ("ex10", "def kl_div(input, target, reduction='mean', log_target=False):\n"
             "    terms = torch.ops.aten.kl_div(input, target, 0, log_target=log_target)\n"
             "    return {'none': terms, 'sum': terms.sum(), 'mean': terms.mean()}.get(reduction,\n"
             "        terms.sum() / input.shape[0] if input.dim() else terms.sum())\n"
             "def distillation_loss(s, t, temperature):\n"
             "    return kl_div(torch.log_softmax(s / temperature, -1), torch.softmax(t / temperature, -1),\n"
             "                  'batchmean') * temperature ** 2\n", "aten.kl_div"),
    ("ex11", "def sequence_cross_entropy(logits, targets, ignore_index=-100, per='token'):\n"
             "    lp = torch.log_softmax(logits, -1).reshape(-1, logits.shape[-1])\n"
             "    return torch.ops.aten.nll_loss_forward(lp, targets.reshape(-1), None, 1, ignore_index)[0]\n"
             "def next_token_targets(tokens, pad):\n"
             "    return torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], pad)], 1)\n", "aten.nll_loss_forward"),
]


@pytest.mark.parametrize("exercise, body, call", FORBIDDEN, ids=["ex10-kl_div", "ex11-cross_entropy", "ex11-nll_loss", "ex10-aten", "ex11-aten"])
def test_the_reimplemented_torch_function_is_refused(grade_source, exercise, body, call):
    result = grade_source(exercise, "import torch\n" + body)
    refused = [c for c in result.checks if c.outcome is Outcome.FAILED and c.feedback
               and call in c.feedback.message and "write yourself" in c.feedback.message]
    assert result.score == 0 and refused, [c.feedback.message for c in result.checks if c.feedback]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("track2") / "work"
    result = CliRunner().invoke(cli, ["init", str(work)])
    assert result.exit_code == 0, result.output
    return work


@pytest.mark.parametrize("exercise", EXERCISES)
def test_cli_stub_is_not_started_and_reference_passes(workspace, exercise):
    module = EXERCISES[exercise]
    runner = CliRunner()
    stub = runner.invoke(cli, ["check", exercise, "-w", str(workspace)])
    assert stub.exit_code == 1, stub.output
    assert "not started" in stub.output.lower()
    shutil.copy(ROOT / "solutions" / f"{module}.py", workspace / f"{module}.py")
    done = runner.invoke(cli, ["check", exercise, "-w", str(workspace)])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(cli, ["list", "-w", str(workspace)])
    assert re.search(rf"{exercise}\s+passed", listed.output), listed.output


@pytest.mark.parametrize("exercise", EXERCISES)
def test_cli_hints_come_gentle_first(workspace, exercise):
    first = CliRunner().invoke(cli, ["hint", exercise, "-w", str(workspace)])
    assert first.exit_code == 0 and first.output.strip(), first.output
    assert catalog.resolve(exercise).hints[0].split()[0] in first.output


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))

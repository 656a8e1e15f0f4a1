"""Claims: the course's prose, checked by running torch.

The checker itself (quotes that must be in the text, numbers at their shown precision,
warnings, errors, silence), the built-in course's claims (all hold, and the README states how
many there are), and the seventeen errors of issue 21: each old wrong text, given the claim
that its replacement carries, is reported by the checker.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from lossgrade import course
from lossgrade.cli.main import cli
from lossgrade.quiz import claims, snippets
from lossgrade.quiz.claims import Claim, Words
from lossgrade.quiz.validate import validate, validate_counting

ROOT = Path(__file__).resolve().parents[1]


def claim(**fields: object) -> Claim:
    base: dict[str, object] = {"quote": "q", "code": "", "path": Path("c.yaml"), "line": 3, "code_line": 4,
                               "target": "t", "text_path": Path("c.yaml"), "text_line": 1}
    base.update(fields)
    return Claim(**base)  # type: ignore[arg-type]


# --- comparing a claim with what its snippet did (no subprocess) -------------------------------
@pytest.mark.parametrize(("written", "printed", "holds"), [
    ("0.2875", "0.2875000834465027", True),
    ("0.2875", "0.2876", False),
    ("0.29", "0.2875", True),  # shown to two decimals: 0.2875 rounds to 0.29
    ("97", "97.08737", True),
    ("97", "97.6", False),
    ("-2.5", "-2.5", True),
    ("-2.5", "2.5", False),
    ("1e4", "10000.0", True),
    ("nan", "nan", True),
    ("nan", "0.0", False),
    ("-inf", "-inf", True),
    ("-inf", "inf", False),
])
def test_a_value_is_compared_at_its_shown_precision(written: str, printed: str, holds: bool) -> None:
    result = claims.disagreement(claim(values=(written,)), snippets.Run(printed))
    assert (result is None) is holds, result


def test_values_are_compared_in_order_and_counted() -> None:
    two = claim(values=("0.2875", "0.475"))
    assert claims.disagreement(two, snippets.Run("0.2875 0.475\n")) is None
    assert "0.475" in claims.disagreement(two, snippets.Run("0.475 0.2875"))
    assert "must print 2 number(s)" in claims.disagreement(two, snippets.Run("0.2875"))
    assert claims.disagreement(claim(values=("1",), tolerance=0.0), snippets.Run("1.0001")) is not None


def test_warns_raises_silent_and_prints() -> None:
    warned = snippets.Run("", warnings=((("UserWarning", "Warning", "Exception", "BaseException"), "target size"),))
    assert claims.disagreement(claim(warns="UserWarning"), warned) is None
    assert claims.disagreement(claim(warns="Warning", match="target size"), warned) is None
    assert "UserWarning" in claims.disagreement(claim(warns="UserWarning", match="other words"), warned)
    assert "no warning" in claims.disagreement(claim(warns="UserWarning"), snippets.Run(""))
    assert "warns" in claims.disagreement(claim(silent=True), warned)
    assert claims.disagreement(claim(silent=True), snippets.Run("")) is None
    raised = snippets.Run("", "IndexError: Target 4 is out of bounds.", 3, ("IndexError", "LookupError", "Exception"))
    assert claims.disagreement(claim(raises="LookupError"), raised) is None
    assert claims.disagreement(claim(raises="IndexError", match="out of bounds"), raised) is None
    assert "not the RuntimeError" in claims.disagreement(claim(raises="RuntimeError"), raised)
    assert "raises no RuntimeError" in claims.disagreement(claim(raises="RuntimeError"), snippets.Run(""))
    assert "failed at line 3" in claims.disagreement(claim(values=("1",)), raised)
    assert "runs without an error, but the code raises IndexError" in claims.disagreement(claim(silent=True), raised)
    assert claims.disagreement(claim(prints="True True"), snippets.Run("True  True\n")) is None
    assert "expects 'True'" in claims.disagreement(claim(prints="True"), snippets.Run("False"))


def test_a_quote_is_found_across_line_breaks_and_names_its_line() -> None:
    text = Words.of("first line\nthe MSE (0.2875) is\n   smaller than the mean", first_line=10)
    assert text.find("the MSE (0.2875) is smaller") == 11
    assert text.find("MSE (0.2875) is  smaller") == 11
    assert text.find("the MSE (0.3) is smaller") is None
    assert claims.number_in("the MSE (0.2875) is", "0.2875")
    assert not claims.number_in("errors of 2.5 and 132", "2")
    assert not claims.number_in("errors of 2.5 and 132", "13")
    assert claims.number_in("takes 32-times-larger steps", "32")
    assert claims.number_in("to −2.5", "-2.5")  # a typographic minus is a minus


# --- quizzes: parsed, checked, reported with file and line --------------------------------------
QUIZ = """schema: 1
id: scratch
title: Scratch
topic: scratch
questions:
  - id: one
    kind: true-false
    prompt: MSE squares the errors.
    answer: true
    myth: MSE averages the errors.
    reality: The MSE of these errors is 0.2875.
    why: Squared errors of 2 and 2 add up to 8, with a UserWarning.
    claims:
      - quote: "The MSE of these errors is 0.2875"
        code: |
          print(0.2875)
        value: "0.2875"
      - quote: "add up to 8"
        code: |
          print(2 ** 2 + 2 ** 2 + 1)
        value: "8"
      - quote: "with a UserWarning"
        code: |
          import warnings
          warnings.warn("shapes differ", UserWarning)
        warns: UserWarning
      - quote: "a sentence that was reworded away"
        code: |
          print(1)
        prints: "1"
"""


def test_a_quiz_claim_that_its_code_contradicts_is_reported_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "scratch.yaml"
    path.write_text(QUIZ)
    problems, count = validate_counting([path])
    text = QUIZ.splitlines()
    lines = {p.line: p.message for p in problems}
    wrong = text.index('      - quote: "add up to 8"') + 1
    stale = text.index('      - quote: "a sentence that was reworded away"') + 1
    assert count == 4
    assert set(lines) == {wrong, stale}, problems
    assert "the text says 8, but the code gives 9" in lines[wrong]
    assert "is not in question one's text any more" in lines[stale]


@pytest.mark.parametrize(("claim_text", "complaint"), [
    ('      - quote: "0.2875"\n        code: |\n          print(1)\n', "exactly one of"),
    ('      - quote: "0.2875"\n        code: |\n          print(1)\n        prints: "1"\n        silent: true\n',
     "not prints and silent"),
    ('      - quote: "The MSE"\n        code: |\n          print(1)\n        value: "1"\n', "not written in the quote"),
    ('      - quote: "The MSE"\n        code: |\n          print(1)\n        value: "one"\n', "is not a number"),
    ('      - quote: "The MSE"\n        code: |\n          print(1)\n        value: []\n', "at least one number"),
    ('      - quote: "The MSE"\n        code: |\n          print(1)\n        prints: "1"\n        colour: red\n',
     "unknown claim field 'colour'"),
    ('      - code: |\n          print(1)\n        prints: "1"\n', "needs `quote:`"),
    ('      - quote: "The MSE"\n        code: |\n          print(1)\n        raises: Runtime Error\n', "names a class"),
    ('      - quote: "The MSE"\n        code: |\n          print(1)\n        prints: "1"\n        match: x\n',
     "goes with `warns:`"),
    ('      - quote: "the myth: MSE averages"\n        code: |\n          print(1)\n        prints: "1"\n',
     "not in question one's text"),
])
def test_malformed_claims_are_schema_problems(tmp_path: Path, claim_text: str, complaint: str) -> None:
    quiz = QUIZ.split("    claims:\n")[0] + "    claims:\n" + claim_text
    path = tmp_path / "scratch.yaml"
    path.write_text(quiz)
    problems = validate([path], run_code=False)
    assert any(complaint in p.message for p in problems), problems


def test_quiz_validate_cli_reports_a_wrong_claim(tmp_path: Path) -> None:
    path = tmp_path / "scratch.yaml"
    path.write_text(QUIZ)
    result = CliRunner().invoke(cli, ["quiz", "--validate", str(path)])
    assert result.exit_code != 0
    assert f"{path}:" in result.output and "the code gives 9" in result.output


# --- the built-in course ------------------------------------------------------------------------
def builtin_claims() -> tuple[int, int]:
    _problems, in_quizzes = validate_counting(run_code=False)
    return in_quizzes, len(claims.read_course(course.course_root().resolve(), builtin=True).claims)


def test_every_claim_of_the_builtin_course_holds() -> None:
    """The quizzes' claims run in test_quiz_content (through validate); these are the stubs',
    misconception messages' and hints' claims."""
    problems, count = claims.check_course(course.course_root().resolve(), builtin=True)
    assert problems == []
    assert count == builtin_claims()[1] > 50


def test_every_quiz_claim_of_the_builtin_course_holds() -> None:
    problems, count = validate_counting()
    assert problems == []
    assert count == builtin_claims()[0] > 50


def test_the_readme_states_how_many_claims_are_checked() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"(\d+) claims in the course are checked by running torch", readme)
    assert stated is not None
    assert int(stated.group(1)) == sum(builtin_claims())


# --- course check: an instructor's course with a claim its code contradicts ---------------------
def test_course_check_reports_a_contradicted_claim_with_file_and_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(course.ENV, raising=False)
    folder = tmp_path / "course"
    assert CliRunner().invoke(cli, ["course", "new", str(folder)]).exit_code == 0
    claims_file = folder / "exercises" / "ex90_log_cosh.claims.yaml"
    claims_file.write_text(claims_file.read_text().replace('prints: "True inf"', 'prints: "True 3.4e38"', 1))
    stub = folder / "exercises" / "ex90_log_cosh.py"
    try:
        result = CliRunner().invoke(cli, ["course", "check", str(folder)])
    finally:
        os.environ.pop(course.ENV, None)  # `course check DIR` sets it for the process (and its subprocesses)
    assert result.exit_code == 2, result.output
    reported = [line for line in result.output.splitlines() if "claim at" in line]
    stub_line = stub.read_text().splitlines().index(next(
        line for line in stub.read_text().splitlines() if "A naive `torch.log(torch.cosh(d))`" in line)) + 1
    assert reported == [f"{stub.resolve()}:{stub_line}: {reported[0].split(': ', 1)[1]}"]
    assert "the code prints 'True inf', but the claim expects 'True 3.4e38'" in reported[0]
    assert "6 claim(s) checked by running torch" in result.output
    assert "1 problem(s)" in result.output


# --- issue 21: each old wrong text is caught by the claim its replacement carries ---------------
MLP_ORDER = """import torch
import torch.nn.functional as F

def train(order, steps=20):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    first = F.mse_loss(model(x), y).item()
    for _ in range(steps):
        for call in order.split():
            if call == "zero_grad":
                optimizer.zero_grad()
            elif call == "loss":
                loss = F.mse_loss(model(x), y)
            elif call == "backward":
                loss.backward()
            else:
                optimizer.step()
    return first, F.mse_loss(model(x), y).item()
"""
FIRST_STEP = """import torch
import torch.nn.functional as F

def first_step(optimizer_class, scale, n=32):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    x, y = torch.randn(n, 3), torch.randn(n, 1)
    before = model.weight.detach().clone()
    optimizer = optimizer_class(model.parameters(), lr=0.01)
    (scale * F.mse_loss(model(x), y)).backward()
    optimizer.step()
    return (model.weight.detach() - before).norm().item()
"""

# (where the old text was, the old text, a claim of it: code and what the old text says it shows)
OLD_TEXTS: list[tuple[str, str, str, dict[str, str]]] = [
    ("quizzes/loss-scales.yaml", "understates errors above 1 and overstates errors below 1",
     ("import torch.nn.functional as F, torch\np, t = torch.tensor([2.5, 0.0, 2.1, 7.8]), torch.tensor([3.0, -0.5, 2.0, 7.0])\n"
     "print(F.mse_loss(p, t).item() > F.l1_loss(p, t).item())  # every error is below 1"), {"prints": "True"}),
    ("quizzes/loss-scales.yaml", "A loss that can hit zero while the model is wrong gives no gradient to learn from",
     ("import torch\np = torch.tensor([6.0, 3.0], requires_grad=True)\n(p - torch.tensor([4.0, 5.0])).mean().backward()\n"
     "print(p.grad.abs().max().item())"), {"prints": "0.0"}),
    ("exercises/ex01_mse.py", "torch silently broadcasts an (N, 1) input against an (N,) target",
     "import torch, torch.nn.functional as F\nF.mse_loss(torch.zeros(5, 1), torch.zeros(5))", {"silent": "true"}),
    ("quizzes/training-step.yaml", "A wrong order raises no error",
     MLP_ORDER + "train('loss step backward')", {"silent": "true"}),
    ("quizzes/training-step.yaml", "optimizer.step(), zero_grad(), loss = loss_fn(model(x), y), loss.backward()",
     MLP_ORDER + "first, last = train('step zero_grad loss backward')\nprint(first == last)  # a wrong order: never trains",
     {"prints": "True"}),
    ("exercises/ex07_train_step.py", "Stepping before backward uses stale gradients",
     MLP_ORDER + "first, last = train('zero_grad loss step backward')\nprint(first != last)  # stale gradients move it",
     {"prints": "True"}),
    ("quizzes/choosing-a-loss.yaml", "pull grows with its error, not with its square",
     ("import torch, torch.nn.functional as F\ne = torch.tensor([2.0, 10.0, 100.0], requires_grad=True)\n"
     "F.huber_loss(e, torch.zeros(3), reduction='sum').backward()\nprint(bool(e.grad[0] < e.grad[1] < e.grad[2]))"),
     {"prints": "True"}),
    ("quizzes/choosing-a-loss.yaml", "Almost all of the loss, and of the gradient, comes from one point",
     ("import torch, torch.nn.functional as F\ne = torch.tensor([1.0, 1.0, 1.0, 10.0], requires_grad=True)\n"
     "F.mse_loss(e, torch.zeros(4)).backward()\nprint((e.grad[3] / e.grad.sum()).item() > 0.9)"), {"prints": "True"}),
    ("exercises/ex02_l1_huber.py", "The outlier dominates MSE.",
     ("import torch, torch.nn.functional as F\np, t = torch.tensor([6.0, 3.0, 40.0]), torch.tensor([4.0, 5.0, 10.0])\n"
     "each = F.l1_loss(p, t, reduction='none')\nprint((each[2] / each.sum()).item() < 0.5)  # ...and not L1"),
     {"prints": "True"}),
    ("quizzes/loss-scales.yaml", "so the same learning rate takes 32-times-larger steps",
     FIRST_STEP + "print(first_step(torch.optim.Adam, 32.0) / first_step(torch.optim.Adam, 1.0))", {"value": "32"}),
    ("quizzes/loss-scales.yaml", "which quietly acts like half the learning rate",
     FIRST_STEP + "print(round(first_step(torch.optim.AdamW, 0.5) / first_step(torch.optim.AdamW, 1.0), 1))",
     {"prints": "0.5"}),
    ("grader/misconceptions/ex03_cross_entropy.py", "That makes the loss (and the step size) grow with",
     FIRST_STEP + "print(round(first_step(torch.optim.Adam, 8.0) / first_step(torch.optim.Adam, 1.0)))",
     {"prints": "8"}),
    ("grader/misconceptions/_ex06_gradients/mse_grad.py", "otherwise bigger batches take bigger steps",
     FIRST_STEP + "print(round(first_step(torch.optim.Adam, 8.0) / first_step(torch.optim.Adam, 1.0)))",
     {"prints": "8"}),
    ("exercises/ex06_gradients.py", "the gradient pushes every score the way that would shrink the loss",
     ("import torch, torch.nn.functional as F\nx, t = torch.tensor([2.5, 3.1, 4.8], requires_grad=True), torch.tensor([2.0, 3.0, 5.0])\n"
     "loss = F.mse_loss(x, t)\nloss.backward()\nprint(F.mse_loss(x + 0.1 * x.grad, t).item() < loss.item())"),
     {"prints": "True"}),
    ("grader/misconceptions/ex02_l1_huber.py", "+1 (towards a higher",
     ("import torch\np = torch.tensor(2.0, requires_grad=True)\nd = p - 2.0\ntorch.where(d >= 0, d, -d).backward()\n"
     "print((p - 0.1 * p.grad).item() > 2.0)  # one step of gradient descent"), {"prints": "True"}),
    ("grader/misconceptions/_ex04_bce/binary_cross_entropy.py", "shows up as losses near 100",
     ("import torch, torch.nn.functional as F\n"
     "print(F.binary_cross_entropy(torch.tensor([1.0]), torch.tensor([0.9])).item())  # labels and p = 0.9 swapped"),
     {"value": "100"}),
    ("quizzes/loss-scales.yaml", "a negative loss means a loss was given the wrong kind of input",
     ("import torch, torch.nn.functional as F\n"
     "loss = F.gaussian_nll_loss(torch.tensor([1.5]), torch.tensor([1.5]), torch.tensor([0.01]))  # used correctly\n"
     "print(loss.item() < 0)"), {"prints": "False"}),
    ("quizzes/logits.yaml", "Logits in the hundreds appear as soon as a model grows confident",
     "import math\nprint(math.log(0.9999 / 0.0001) >= 100)  # the gap that 99.99% confidence needs", {"prints": "True"}),
    ("grader/checks/ex06_gradients.py", "by 1 / N for the others",
     ("import torch, torch.nn.functional as F\nx, y = torch.randn(3, 4, requires_grad=True), torch.rand(3, 4)\n"
     "F.binary_cross_entropy_with_logits(x, y).backward()\nprint(torch.allclose(x.grad, (torch.sigmoid(x) - y) / 3))"),
     {"prints": "True"}),
    ("quizzes/targets.yaml", "takes the right answer as a class index, not as a one-hot vector",
     "import torch, torch.nn.functional as F\nF.cross_entropy(torch.zeros(2, 3), torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))",
     {"raises": "RuntimeError"}),
    ("quizzes/training-step.yaml", "with zero_grad() between backward() and step(), it applies zeros",
     ("import torch\nw = torch.tensor(1.0, requires_grad=True)\n(2 * w).backward()\ntorch.optim.SGD([w], lr=0.1).zero_grad()\n"
     "print(w.grad)"), {"prints": "tensor(0.)"}),
]


def _yaml_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_each_old_wrong_text_of_issue_21_is_gone_and_the_checker_catches_it(tmp_path: Path) -> None:
    for where, old, _code, _expect in OLD_TEXTS:
        current = claims.text_of(ROOT / where) if where.endswith(".py") else Words.of((ROOT / where).read_text())
        assert current.find(old) is None, f"{where} still says {old!r}"
    # The old texts, in a course folder of their own, each with the claim that states it.
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "old.md").write_text("\n\n".join(old for _w, old, _c, _e in OLD_TEXTS))
    entries = []
    for _where, old, code, expect in OLD_TEXTS:
        body = "\n".join("      " + line for line in code.splitlines())
        extra = "".join(f"    {key}: {_yaml_text(value) if key != 'silent' else value}\n" for key, value in expect.items())
        entries.append(f"  - file: exercises/old.md\n    quote: {_yaml_text(old)}\n    code: |\n{body}\n{extra}")
    (tmp_path / "exercises" / "old.claims.yaml").write_text("schema: 1\nclaims:\n" + "".join(entries))
    problems, count = claims.check_course(tmp_path, builtin=False)
    assert count == len(OLD_TEXTS) == 21
    assert all(problem.path.name == "old.md" and "claim at" in problem.message for problem in problems)
    for _where, old, _code, _expect in OLD_TEXTS:
        assert sum(old in problem.message for problem in problems) == 1, f"not caught: {old!r}"
    assert len(problems) == len(OLD_TEXTS), "\n".join(map(str, problems))


def test_broken_claims_files_are_reported_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "ex10.py").write_text('"""The loss is 4.0."""\nMESSAGE = ("it is " "split 4.0")\n')
    path = tmp_path / "exercises" / "ex10.claims.yaml"
    path.write_text(
        "schema: 1\n"
        "claims:\n"
        "  - quote: \"The loss is 4.0\"\n"  # 3: no file
        "    code: print(4.0)\n"
        "    value: \"4.0\"\n"
        "  - file: ../outside.py\n"  # 6: outside the course folder
        "    quote: \"x\"\n"
        "    code: print(1)\n"
        "    prints: \"1\"\n"
        "  - file: exercises/missing.py\n"  # 10: no such file
        "    quote: \"x\"\n"
        "    code: print(1)\n"
        "    prints: \"1\"\n"
        "  - file: exercises/ex10.py\n"  # 14: holds
        "    quote: \"it is split 4.0\"\n"
        "    code: print(4.0)\n"
        "    value: \"4.0\"\n"
        "  - file: exercises/ex10.py\n"  # 18: a quote across two strings is not in either
        "    quote: \"The loss is 4.0. it is\"\n"
        "    code: print(1)\n"
        "    prints: \"1\"\n"
    )
    found = claims.read_file_claims(path, tmp_path, builtin=False)
    assert [c.line for c in found.claims] == [14, 18]
    assert [(p.line, p.message.split(":")[0]) for p in found.problems] == [
        (3, "claim 1 needs `file"), (6, "claim 2"), (10, "claim 3"), (19, "claim 5 (exercises/ex10.py)")]
    assert "no file '../outside.py'" in found.problems[1].message
    (tmp_path / "exercises" / "bad.claims.yaml").write_text("claims: [\n")
    problems, count = claims.check_course(tmp_path, builtin=False)
    assert count == 2 and any(p.path.name == "bad.claims.yaml" and "invalid YAML" in p.message for p in problems)

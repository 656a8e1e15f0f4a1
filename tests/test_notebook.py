"""The example notebook runs headless in a real Jupyter kernel and says what it should.

nbclient starts an ipykernel with this interpreter (where lossgrade is installed), runs
every cell (a cell that raises fails the test) and hands back the outputs, which are
checked here: the seeds' numbers, the verdicts and the HTML reports.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "notebook.ipynb"


@pytest.fixture(scope="module")
def cells(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The notebook's code cells, executed in an empty folder (so no workspace is touched)."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    folder = tmp_path_factory.mktemp("notebook")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's path migration notice
        patch.delenv("LOSSGRADE_WORKSPACE", raising=False)
        NotebookClient(notebook, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(folder)}}).execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def text(cell: dict[str, Any]) -> str:
    """Everything a cell printed or returned, as plain text."""
    parts = []
    for output in cell["outputs"]:
        parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def html(cell: dict[str, Any]) -> str:
    return "".join(output.get("data", {}).get("text/html", "") for output in cell["outputs"])


def find(cells: list[dict[str, Any]], needle: str) -> dict[str, Any]:
    """The first code cell whose source contains `needle`."""
    return next(cell for cell in cells if needle in cell["source"])


def test_the_notebook_is_saved_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in notebook.cells if c.cell_type == "code")


def test_ex01_walkthrough_gives_the_seeds_numbers(cells: list[dict[str, Any]]) -> None:
    assert text(find(cells, "errors.mean()")) == "tensor([ 2., -2.]) tensor(0.)\n"  # raw errors cancel
    assert text(find(cells, "worked = mse_loss")) == "4.0\n0.2875\n"


def test_ex01_right_then_wrong(cells: list[dict[str, Any]]) -> None:
    right = find(cells, 'lossgrade.check("ex01", mse_loss=mse_loss)')
    assert "10/10 points · passed" in text(right)
    assert "badge is-passed" in html(right) and "badge is-failed" not in html(right)
    wrong = find(cells, "mse_loss=mse_loss_summed")
    assert "· failed" in text(wrong) and "expected: tensor(0.2875" in text(wrong)
    assert "Known misconception: Summed the squared errors instead of averaging them" in html(wrong)


def test_ex03_hint_numbers_and_verdict(cells: list[dict[str, Any]]) -> None:
    assert text(find(cells, 'lossgrade.hint("ex03")')).startswith("Hint 1/3 for ex03: Softmax does not change")
    assert text(find(cells, "uniform = torch.zeros(4, 10)")) == "2.3026 2.3026\n0.417\ntensor([     0., -10000.])\n"
    verdict = find(cells, 'result = lossgrade.check("ex03"')
    assert "15/15 points · passed" in text(verdict) and "badge is-passed" in html(verdict)
    assert text(find(cells, "print(result.passed")).startswith("True 15.0 15.0\n")


def test_quiz_questions_then_score(cells: list[dict[str, Any]]) -> None:
    sheet = next(c for c in cells if c["source"].strip() == 'lossgrade.quiz("logits")')
    assert "[softmax-before-ce]" in text(sheet) and "softmax-before-ce" in html(sheet)
    graded = find(cells, "answers={")
    assert "Score: 9/10" in text(graded) and "softmax-before-ce: you answered 0.417" in text(graded)
    assert "Myth:" in html(graded)

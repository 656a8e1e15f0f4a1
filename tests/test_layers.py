"""The folder list is the architecture: every package of lossgrade is one layer of the
import-linter contract in pyproject.toml, the package's root holds only its public entry
points, and the contract holds (no circle, no arrow back up a layer)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import lossgrade

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(lossgrade.__file__).parent
tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")
PUBLIC_ROOT_MODULES = {"__init__", "__main__", "api", "pytest_plugin"}  # `lossgrade.check`, `-p lossgrade.pytest_plugin`


def contracts() -> list[dict[str, object]]:
    with open(REPO / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["tool"]["importlinter"]["contracts"]


def layers() -> list[set[str]]:
    (contract,) = [c for c in contracts() if c["type"] == "layers"]
    assert contract["containers"] == ["lossgrade"] and contract["exhaustive"] is True
    assert contract.get("ignore_imports") == ["lossgrade -> lossgrade.api"]  # the lazy notebook API, and nothing else
    return [set(re.split(r"\s*[|:]\s*", layer)) for layer in contract["layers"]]  # type: ignore[union-attr]


def test_every_package_and_root_module_is_one_layer() -> None:
    on_disk = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    on_disk |= {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    listed = [name for layer in layers() for name in layer]
    assert len(listed) == len(set(listed)), "a name in two layers"
    assert set(listed) == on_disk
    assert {p.stem for p in PACKAGE.glob("*.py")} == PUBLIC_ROOT_MODULES
    assert layers()[-2:] == [{"course"}, {"core"}]  # the course over the model, at the bottom


def test_the_sandbox_and_output_stay_independent() -> None:
    forbidden = {c["source_modules"][0]: set(c["forbidden_modules"]) for c in contracts() if c["type"] == "forbidden"}  # type: ignore[index]
    assert {"lossgrade.checks", "lossgrade.grading", "lossgrade.output", "lossgrade.cli"} <= forbidden["lossgrade.sandbox"]
    assert {"lossgrade.sandbox", "lossgrade.checks", "lossgrade.grading.grader"} <= forbidden["lossgrade.output"]


def test_the_import_contracts_hold() -> None:
    pytest.importorskip("importlinter", reason="import-linter is not installed (pip install -e '.[test]')")
    # this interpreter's import-linter, so that it reads this checkout's lossgrade
    command = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]
    result = subprocess.run([*command, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout and "Contracts: 3 kept, 0 broken." in result.stdout

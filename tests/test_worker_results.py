"""What a worker says of an exception (sandbox/_results.py: describe_exception): the learner's
frames, with the carets under the failing part of a line. A frame's text is kept by where it
is and what its line says, since a mistake raises on the same line call after call; a line
whose text changed (the same learner's next file of that name) is formatted again."""
from __future__ import annotations

import importlib
import linecache
import sys
from pathlib import Path

import pytest

from lossgrade.sandbox.inprocess import _RESULTS as results


def raised(folder: Path, body: str) -> BaseException:
    (folder / "learner_mod.py").write_text(f"import torch\n\n\ndef loss(x):\n    {body}\n", encoding="utf-8")
    sys.modules.pop("learner_mod", None)
    linecache.checkcache()
    importlib.invalidate_caches()
    module = importlib.import_module("learner_mod")
    with pytest.raises(Exception) as info:
        module.loss(None)
    return info.value


def test_a_frames_text_is_kept_by_its_place_and_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(results, "_FORMATTED", {})
    first = results.describe_exception(raised(tmp_path, "return x + torch.zeros(2) @ torch.zeros(3)"), str(tmp_path))
    assert "line 5, in loss" in first["where"] and "torch.zeros(2) @ torch.zeros(3)" in first["where"]
    assert "~^~" in first["where"]  # the carets under the operator that failed
    again = results.describe_exception(raised(tmp_path, "return x + torch.zeros(2) @ torch.zeros(3)"), str(tmp_path))
    assert again["where"] == first["where"] and len(results._FORMATTED) == 1
    other = results.describe_exception(raised(tmp_path, "return x.sum()"), str(tmp_path))  # line 5 again, other text
    assert "return x.sum()" in other["where"] and len(results._FORMATTED) == 2

"""Import a trusted Python file by path (a reference solution, an instructor's checks or
misconceptions), under a private module name so it cannot shadow anything."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load(name: str, path: Path, search: Path | None = None) -> ModuleType:
    """Execute `path` as module `name`; `search` is put on sys.path while it runs, so the
    file may import its siblings (ex05's solution imports ex03's)."""
    if search is not None:
        sys.path.insert(0, str(search))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look modules up by name
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    finally:
        if search is not None:
            sys.path.remove(str(search))
    return module

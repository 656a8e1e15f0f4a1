"""The learner's workspace: the folder holding their copies of the exercise files.

`lossgrade init DIR` makes one; in a clone of the repository, its `exercises/` folder is one
too. Progress that must survive between commands (hints shown, quiz scores, the exercise
last checked) lives in `DIR/.lossgrade/state.json`, written atomically.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lossgrade.core import atomicfile
from lossgrade.course import catalog
from lossgrade.core.errors import LossgradeError

STATE_DIR = ".lossgrade"


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader (or a Ctrl-C) never sees half a file."""
    atomicfile.write_text(path, text)


def _has_exercises(folder: Path) -> bool:
    return any((folder / e.file).is_file() for e in catalog.exercises())


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def find(cls, explicit: str | os.PathLike[str] | None = None) -> Workspace:
        """The workspace named by --workspace or LOSSGRADE_WORKSPACE, else the current
        folder, else its `exercises/` (a clone of the repository)."""
        chosen = explicit or os.environ.get("LOSSGRADE_WORKSPACE")
        if chosen:
            root = Path(chosen)
            if not root.is_dir():
                raise LossgradeError(f"workspace {root} does not exist; create it with `lossgrade init {root}`")
            return cls(root.resolve())
        here = Path.cwd()
        for candidate in (here, here / "exercises"):
            if (candidate / STATE_DIR).is_dir() or _has_exercises(candidate):
                return cls(candidate.resolve())
        raise LossgradeError(
            f"no exercise files in {here}: run `lossgrade init DIR` to make a workspace, "
            "or pass --workspace DIR"
        )

    def exercise_file(self, exercise: catalog.Exercise) -> Path:
        return self.root / exercise.file

    # --- persistent state -------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.root / STATE_DIR / "state.json"

    def load_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def update_state(self, **changes: Any) -> dict[str, Any]:
        state = self.load_state()
        state.update(changes)
        atomic_write_text(self.state_path, json.dumps(state, indent=2, sort_keys=True))
        return state


def init(target: Path, force: bool = False) -> list[Path]:
    """Copy every stub into `target`; refuse to overwrite a learner's work unless `force`."""
    target.mkdir(parents=True, exist_ok=True)
    stubs = [e.stub_path for e in catalog.exercises()]
    existing = [target / s.name for s in stubs if (target / s.name).exists()]
    if existing and not force:
        names = ", ".join(p.name for p in existing)
        raise LossgradeError(
            f"{target} already holds {names}; pass --force to overwrite them with fresh stubs"
        )
    copied = []
    for stub in stubs:
        shutil.copyfile(stub, target / stub.name)
        copied.append(target / stub.name)
    (target / STATE_DIR).mkdir(exist_ok=True)
    return copied

"""How an LMS names what its bulk download holds, and how learner ids are read from those names.

- Canvas: loose files named `name_12345_67890_ex01_mse.py` (`name_LATE_...` when late, a
  `-1` before the extension for a re-upload), one learner per `name_userid`;
- Moodle: a folder `Full Name_12345_assignsubmission_file_/` per learner (or, downloaded
  without folders, loose files `Full Name_12345_assignsubmission_file_ex01_mse.py`);
- Gradescope's "Export Submissions": `submission_metadata.yml` and a folder
  `submission_<id>/` per submission, the learner named by the metadata (sid, else email);
- GitHub Classroom: a folder per repository, `assignment-username/` (with `.git`).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from lossgrade.grading.trees import MIB, printable

# Canvas: "{name}_{user id}_{attachment id}_{file}", "{name}_LATE_{...}" when late.
CANVAS = re.compile(r"^(?P<name>[^_].*?)(?:_LATE)?_(?P<uid>\d+)_(?P<aid>\d+)_(?P<file>.+)$")
# Moodle: "{full name}_{participant id}_assignsubmission_{plugin}_{file}" (a folder when
# downloaded "in folders": the file part is then empty).
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$")
GRADESCOPE_METADATA = "submission_metadata.yml"


@dataclass
class Part:
    """One entry of SUBMISSIONS that belongs to a learner."""

    path: Path
    display: str  # printable, as the summary names it ("alice/", "alice.zip")
    kind: str  # "folder", "zip" or "file"
    inner: str = ""  # a loose file's own name, its LMS prefix removed
    lms: str = ""  # "canvas", "moodle", "gradescope", "" (a plain folder or zip)


def lms_name(name: str, is_file: bool) -> tuple[str, str, str, str] | None:
    """(learner name, LMS user id, the file's own name, LMS) for an LMS-named entry."""
    moodle = MOODLE.match(name)
    if moodle:
        return moodle["name"], moodle["uid"], moodle["file"], "moodle"
    canvas = CANVAS.match(name) if is_file else None
    if canvas:
        return canvas["name"], canvas["uid"], canvas["file"], "canvas"
    return None


def gradescope_ids(root: Path) -> dict[str, str]:
    """Folder name -> learner id, from a Gradescope export's submission_metadata.yml."""
    path = root / GRADESCOPE_METADATA
    if not path.is_file():
        return {}
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle.read(16 * MIB))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    ids: dict[str, str] = {}
    for folder, meta in (data or {}).items() if isinstance(data, dict) else ():
        people = meta.get(":submitters") or meta.get("submitters") if isinstance(meta, dict) else None
        if not isinstance(people, list) or not people or not isinstance(people[0], dict):
            continue
        person = {str(k).lstrip(":"): v for k, v in people[0].items()}
        learner = person.get("sid") or person.get("email") or person.get("name")
        if learner:
            ids[str(folder)] = str(learner)
    return ids


def name_lms_learners(claimed: dict[str, list[Part]], lms_ids: dict[str, set[str]]) -> dict[str, list[Part]]:
    """LMS learners are named by their LMS name, with the user id only where two share it."""
    named: dict[str, list[Part]] = {}
    for key, parts in claimed.items():
        if "\0" in key:
            person, uid = key.split("\0")
            key = printable(person) if len(lms_ids[person]) == 1 else printable(f"{person}_{uid}")
        else:
            key = printable(key)
        named.setdefault(key, []).extend(parts)
    return named


def github_classroom(named: dict[str, list[Part]], notes: list[str]) -> dict[str, list[Part]]:
    """GitHub Classroom's repositories, `assignment-username/` each: named by the user."""
    folders = [parts[0].path for parts in named.values() if len(parts) == 1 and parts[0].kind == "folder" and not parts[0].lms]
    if len(folders) < 2 or len(folders) != len(named) or not all((f / ".git").exists() for f in folders):
        return named
    prefix = os.path.commonprefix([f.name for f in folders])
    prefix = prefix[: prefix.rfind("-") + 1]
    if not prefix or any(len(f.name) == len(prefix) for f in folders):
        return named
    notes.append(f"GitHub Classroom repositories: learners named by their folder without {prefix!r}")
    return {learner.removeprefix(prefix): parts for learner, parts in named.items()}

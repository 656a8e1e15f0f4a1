"""Where a worker's drivers come from: the built-in ones, from `_drivers.py`, and a course's,
from the text of its drivers files; all of them run here before any learner code does.

A sibling of `_worker.py`, whose `DRIVERS` they become; loaded the same way (by the zygote,
and by `inprocess.py` for our own modules), it imports nothing from lossgrade.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))


def import_drivers() -> dict[str, Callable[..., Any]]:
    """The drivers (trusted harness code that runs beside learner code, such as a training
    step on a model built here) come from `_drivers.py`, loaded before any learner code."""
    path = os.path.join(HERE, "_drivers.py")
    if not os.path.exists(path):
        return {}
    namespace: dict[str, Any] = {"__name__": "lossgrade_drivers"}
    with open(path, encoding="utf-8") as source:
        exec(compile(source.read(), path, "exec"), namespace)  # noqa: S102 - our own file
    return dict(namespace.get("DRIVERS", {}))


def course_drivers(sources: dict[str, str]) -> dict[str, Callable[..., Any]]:
    """The drivers of a course's exercises, from the text of each exercise's drivers file
    (`drivers/<module>.py` of its course folder, which defines `DRIVERS = {name: function}`),
    sent by the grader and run here before any learner code. Each is registered as
    "<module>/<name>" (`learner.driver_name`), so that no course driver can take a built-in
    one's name or another exercise's. A file that fails here registers nothing: the check
    that asks for one of its drivers is told that there is none."""
    found: dict[str, Callable[..., Any]] = {}
    for module, text in sources.items():
        namespace: dict[str, Any] = {"__name__": f"lossgrade_course_drivers_{module}"}
        try:
            exec(compile(text, f"<drivers of {module}>", "exec"), namespace)  # noqa: S102 - the course's own file
        except Exception:  # noqa: BLE001 - the grader loads the same file and reports its error
            continue
        drivers = namespace.get("DRIVERS")
        if isinstance(drivers, dict):
            found.update((f"{module}/{name}", fn) for name, fn in drivers.items() if isinstance(name, str) and callable(fn))
    return found

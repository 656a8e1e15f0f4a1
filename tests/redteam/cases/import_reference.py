# redteam: exercise=ex01 score=0 timeout=3 mentions=uses `import importlib`
"""Tries to return the reference solution's answer by importing it, or the grader, by name:
`solutions`, `lossgrade` (and its runner's reference loader), `grader`, the sandbox's own
modules, and through the editable install's finder with our import guard taken out of the
way for a moment."""
import importlib
import sys


def find_reference():
    for name in ("solutions.ex01_mse", "lossgrade.grading.runner", "grader.grading.runner", "_zygote", "_jail",
                 "_worker", "_guards", "_hooks", "_results", "_drivers", "_drivers_loader", "_wire", "_kernel", "_leftovers"):
        try:
            module = importlib.import_module(name)
        except BaseException:  # noqa: BLE001, S112 - hostile on purpose (a learner's attack)
            continue
        if hasattr(module, "mse_loss"):
            return module.mse_loss
        if hasattr(module, "reference"):
            from lossgrade.course import catalog

            return module.reference(catalog.resolve("ex01")).mse_loss
    guard = sys.meta_path.pop(0)  # whatever sits first: the grader's import guard
    try:
        from lossgrade.course import catalog
        from lossgrade.grading import runner

        return runner.reference(catalog.resolve("ex01")).mse_loss
    except BaseException:  # noqa: BLE001 - hostile on purpose (a learner's attack)
        return None
    finally:
        sys.meta_path.insert(0, guard)


def mse_loss(input, target, reduction="mean"):
    reference = find_reference()
    if reference is not None:
        return reference(input, target, reduction)
    return (input - target).sum() * 0

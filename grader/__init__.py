"""lossgrade: auto-graded exercises and myth-buster quizzes for PyTorch loss functions.

From Python (a Jupyter or Colab notebook, say), see `lossgrade.api` and docs/NOTEBOOKS.md:

    import lossgrade
    lossgrade.check("ex01", mse_loss=mse_loss)
    lossgrade.hint("ex01")
    lossgrade.quiz("logits")

`import lossgrade` stays cheap: `check` and `hint` load the API (and, when first used, torch
and the sandbox) on first access. `lossgrade.quiz` is the quiz subpackage, made callable so
that `lossgrade.quiz("logits")` works while `lossgrade.quiz.grade_answers_file` and
`from lossgrade.quiz import ...` keep meaning the package.
"""
from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "check", "hint", "quiz"]

if TYPE_CHECKING:
    from lossgrade.api import check, hint


class _CallableQuizPackage(types.ModuleType):
    """`lossgrade.quiz`: the quiz package, which can also be called like a function."""

    def __call__(self, quiz_id: str, answers: dict[str, Any] | None = None) -> Any:
        """lossgrade.quiz("logits") shows the questions; with answers={...}, grades them."""
        from lossgrade.api import quiz

        return quiz(quiz_id, answers)


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        # The import system binds each subpackage to its parent with setattr: the moment
        # `lossgrade.quiz` is imported, however it is imported, it becomes callable.
        if name == "quiz" and type(value) is types.ModuleType:
            value.__class__ = _CallableQuizPackage
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in ("check", "hint"):
        from lossgrade import api

        return getattr(api, name)
    if name == "quiz":
        import importlib

        return importlib.import_module("lossgrade.quiz")
    raise AttributeError(f"module 'lossgrade' has no attribute {name!r}")

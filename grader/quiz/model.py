"""What a quiz is, and what an answer to each kind of question means.

One place decides, per kind, how an answer is written (in a quiz key, an answers file, the
saved progress), when it is right, and how it reads in a result. The key in a quiz file and
a learner's answer use the same syntax, so a quiz author never learns two notations.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lossgrade.quiz.claims import Claim

Answer = str | bool | float | tuple[str, ...]

_TRUE = {"true", "t", "yes", "y"}
_FALSE = {"false", "f", "no", "n"}


class Kind(str, enum.Enum):
    SINGLE = "single"  # pick one choice
    MULTIPLE = "multiple"  # pick every right choice, and no wrong one
    TRUE_FALSE = "true-false"
    NUMERIC = "numeric"  # a number, right within the question's tolerance
    OUTPUT = "output"  # "what does this code print?", typed in


@dataclass
class Question:
    id: str
    kind: Kind
    prompt: str
    myth: str
    reality: str
    why: str
    answer: Answer
    choices: dict[str, str] = field(default_factory=dict)  # key -> text, in file order
    tolerance: float = 0.0
    code: str | None = None
    line: int = 1  # where the question starts, for messages
    answer_line: int = 1
    code_line: int = 1  # the first line of the code itself
    claims: list[Claim] = field(default_factory=list)  # what its explanation states, proved by code


@dataclass
class Quiz:
    id: str
    title: str
    topic: str
    questions: list[Question]
    path: Path
    description: str = ""
    claims: list[Claim] = field(default_factory=list)  # what the description states, proved by code

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


def squash(text: str) -> str:
    """Printed output compared without whitespace: `tensor([1, 2])` is `tensor([1,2])`."""
    return "".join(text.split())


def _keys(raw: Any) -> list[str]:
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValueError("expected a list of choice keys such as [a, c]")
    return [i.strip().lower() for i in items if i.strip()]


def parse_answer(question: Question, raw: Any) -> Answer:
    """The answer that `raw` (text, or a list of texts, from YAML or JSON) gives to
    `question`; ValueError says what form was expected."""
    kind = question.kind
    if kind is Kind.MULTIPLE:
        chosen = _keys(raw)
        unknown = [key for key in chosen if key not in question.choices]
        if unknown or not chosen:
            raise ValueError(f"expected a list of choice keys from {', '.join(question.choices)}")
        return tuple(key for key in question.choices if key in chosen)  # file order, no repeats
    if not isinstance(raw, str):
        raise ValueError("expected one value, not a list or mapping")
    text = raw.strip()
    if kind is Kind.SINGLE:
        if text.lower() not in question.choices:
            raise ValueError(f"expected one choice key of {', '.join(question.choices)}, got {text!r}")
        return text.lower()
    if kind is Kind.TRUE_FALSE:
        if text.lower() not in _TRUE | _FALSE:
            raise ValueError(f"expected true or false, got {text!r}")
        return text.lower() in _TRUE
    if kind is Kind.NUMERIC:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"expected a number such as 2.30, got {text!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {text!r}")
        return number
    if not text:
        raise ValueError("expected the printed text")
    return text


def answer_text(question: Question, answer: Answer) -> str | list[str]:
    """`answer` written back in the form `parse_answer` reads (for saved progress)."""
    if isinstance(answer, tuple):
        return list(answer)
    if isinstance(answer, bool):
        return "true" if answer else "false"
    return repr(answer) if isinstance(answer, float) else answer


def is_correct(question: Question, answer: Answer | None) -> bool:
    if answer is None:
        return False
    if question.kind is Kind.NUMERIC:
        assert isinstance(answer, float) and isinstance(question.answer, float)
        return abs(answer - question.answer) <= question.tolerance + 1e-12
    if question.kind is Kind.OUTPUT:
        assert isinstance(answer, str) and isinstance(question.answer, str)
        return squash(answer) == squash(question.answer)
    return answer == question.answer


def describe(question: Question, answer: Answer | None) -> Any:
    """`answer` as a learner reads it in a result: choice texts rather than keys."""
    if answer is None:
        return None
    if isinstance(answer, tuple):
        return [question.choices[key] for key in answer]
    if question.kind is Kind.SINGLE:
        assert isinstance(answer, str)
        return question.choices[answer]
    return answer

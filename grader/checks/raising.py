"""A check that a call raises, naming the catalogued mistake of code that does not check
its arguments at all (it returned a value, or torch raised some other error deep inside)."""
from __future__ import annotations

from typing import Any

from lossgrade.checks.framework import CheckContext, Failure
from lossgrade.misconceptions import by_id


def expect_raises_named(t: CheckContext, mistake: str, function: str, *args: Any, **kwargs: Any) -> None:
    """`t.expect_raises(function, *args, **kwargs)`; when the call returned a value or raised
    an error of another type, the failure names `mistake` (a wrong message does not: that
    code did check)."""
    try:
        t.expect_raises(function, *args, **kwargs)
    except Failure as failure:
        message = failure.feedback.message
        rest = message.split(", but ", 1)[-1]
        unchecked = message.startswith("This call should raise") and rest.startswith(
            ("it returned a value", "your code raised "))
        if failure.misconception is None and unchecked:
            raise Failure(failure.feedback, by_id(t.module, mistake).as_result()) from None
        raise

"""Whether an error message names a shape or a value faithfully, however it is written.

A docstring that says "name both shapes" is met by `(4, 1)`, `[4, 1]`, `torch.Size([4, 1])`
or `4x1`: each is how someone names a shape. A message that names only one of the shapes,
or another shape, is not.
"""
from __future__ import annotations

import re
from typing import Any

from lossgrade.checks import compare
from lossgrade.checks.framework import CheckContext, Reply


def names_shape(message: str, shape: tuple[int, ...]) -> bool:
    """`shape` appears in `message` as a bracketed list of its sizes (`(4, 1)`, `[4, 1]`,
    `torch.Size([4, 1])`, `(4,)`, `[4]`, `()`), or for 2-D and more as `4x1` / `4 x 1` / `4×1`."""
    sizes = [str(s) for s in shape]
    inner = r"\s*,\s*".join(sizes) + (r"\s*,?\s*" if sizes else r"\s*")
    if re.search(r"[\(\[]" + inner + r"[\)\]]", message):
        return True
    if len(sizes) >= 2:
        crossed = r"\s*[x×*]\s*".join(sizes)
        return re.search(r"(?<![\d.])" + crossed + r"(?![\d.])", message) is not None
    return False


def names_value(message: str, value: int) -> bool:
    """The integer `value` appears in `message` as a number of its own (not inside 14 or 4.5)."""
    return re.search(r"(?<![\d.\w])" + re.escape(str(value)) + r"(?![\d\w]|\.\d)", message) is not None


def expect_refusal(t: CheckContext, function: str, *args: Any, errors: tuple[str, ...] = ("ValueError",),
                   mention: tuple[str, ...] = (), why: str = "", returned: str | None = None,
                   other_type: tuple[str, str] | None = None, **kwargs: Any) -> Reply:
    """`t.expect_raises`, and when the call returned a value instead of raising, the catalogued
    mistake `returned` (a validation left out) is named: the evidence is the value itself.
    `other_type` is (an error type, a mistake id): the validation is there but raises that
    type (torch's RuntimeError where the docstring promises ValueError, say), and the mistake
    is named only for exactly that type, never for a crash of another kind."""
    if returned is not None or other_type is not None:
        reply = t.learner.call(function, *args, device=t.device, **kwargs)
        wanted = " or ".join(errors)
        if (returned is not None and reply.kind in ("tensor", "python") and not reply.violations
                and not reply.not_implemented):
            t.fail(f"This call should raise {wanted}, but it returned a value. {why}".strip(),
                   call=t.describe(function, args, kwargs), got=compare.show(reply.value),
                   expected=f"{wanted} raised", output=reply.output, mistake=returned)
        if (other_type is not None and reply.kind == "raised" and not reply.violations and not reply.not_implemented
                and not reply.raised(*errors) and reply.error_type == other_type[0]):
            t.fail(f"This call should raise {wanted}, as the docstring promises, but your code {reply.explain()}",
                   call=t.describe(function, args, kwargs), expected=f"{wanted} raised", output=reply.output,
                   mistake=other_type[1])
    return t.expect_raises(function, *args, errors=errors, mention=mention, why=why, **kwargs)


def expect_shapes_named(t: CheckContext, function: str, *args: Any, shapes: tuple[tuple[int, ...], ...],
                        why: str = "", returned: str | None = None, incomplete: str | None = None,
                        **kwargs: Any) -> Reply:
    """`function(*args, **kwargs)` raises ValueError with a message naming every one of `shapes`;
    `returned` is named when it returned a value, `incomplete` when the message misses a shape."""
    reply = expect_refusal(t, function, *args, errors=("ValueError",), why=why, returned=returned, **kwargs)
    missing = [s for s in shapes if not names_shape(reply.message, s)]
    if missing:
        wanted = " and ".join(_written(s) for s in shapes)
        t.fail(f"The ValueError is right, but its message should name both shapes ({wanted}, written any way "
               "torch or you would write them: (4, 1), [4, 1], torch.Size([4, 1])), so the person who sees it "
               f"knows what to fix; it does not name {' or '.join(_written(s) for s in missing)}",
               call=t.describe(function, args, kwargs), got=reply.message, expected=f"a message naming {wanted}",
               mistake=incomplete)
    return reply


def _written(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"

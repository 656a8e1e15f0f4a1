"""How a check is written: a small function whose docstring-like sentence the learner reads.

    checks = Checks("ex01_mse")

    @checks.add("mse_loss matches the reference for every reduction", devices=True)
    def reductions(t: CheckContext) -> None:
        x, y = t.randn(4, 3), t.randn(4, 3)
        for reduction in ("mean", "sum", "none"):
            t.expect_close("mse_loss", x, y, reduction=reduction, grad_wrt=(0,))

A check fails by raising `Failure` (usually through the `expect_*` helpers, which build the
feedback: the call made, what came back, what was expected, the hint and the diagnosed
misconception). Inputs come from `t.rng`, seeded from the grading secret and the check's id
(see secret.py), so every run with the same secret and every learner sees the same cases,
and no learner can compute them in advance. The learner's code is reached only through
`t.learner` (a sandboxed `LearnerModule`), whose every reply is checked against what was
asked before a check reads it (`replies.fit_call`, `replies.fit_drive`); the reference runs
here, in the trusted process.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Protocol

import torch

from lossgrade import misconceptions
from lossgrade.checks import compare, secret
from lossgrade.core.memo import Memo, forget_recent
from lossgrade.core.results import Feedback, Misconception
from lossgrade import course
from lossgrade.sandbox.learner import call_request, driver_name
from lossgrade.sandbox import replies as _replies
from lossgrade.sandbox.replies import AnyOf, ListOf, Reply, Rule, TensorOf, nullable  # noqa: F401 - a driver report's schema, for checks



# The text of the call a check made, or a function that writes it: built only when a check
# fails, since most calls pass and a description costs more than the call.
Call = str | Callable[[], str]
# The reference's outputs and the calls' descriptions, shared by every learner a process grades.
_REFERENCES = Memo()
_DESCRIPTIONS = Memo()


class Learner(Protocol):
    """The learner's module as checks see it: a sandboxed `LearnerModule`, or (for the
    project's own tests and benchmarks only) an `InProcessLearner`."""

    def load(self) -> Reply: ...

    def call(self, function: str, *args: Any, device: str = "cpu", grad_wrt: tuple[int, ...] = (),
             grad_output: Any = None, timeout: float | None = None, **kwargs: Any) -> Reply: ...

    def call_many(self, calls: list[dict[str, Any]], timeout: float | None = None) -> list[Reply]: ...

    def drive(self, driver: str, timeout: float | None = None, **params: Any) -> Reply: ...

    def close(self) -> None: ...


class Failure(Exception):
    """A check failed; carries everything the learner should read."""

    def __init__(self, feedback: Feedback, misconception: Misconception | None = None) -> None:
        super().__init__(feedback.message)
        self.feedback = feedback
        self.misconception = misconception


class NotStarted(Exception):
    """The learner's function still raises NotImplementedError."""


class Skip(Exception):
    """The check cannot run here (e.g. no CUDA device); the message says why."""


@dataclass(frozen=True)
class Check:
    id: str  # "ex01_mse.reductions"
    description: str
    run: Callable[[CheckContext], None]
    devices: bool  # run once per available device
    hint: str | None
    weight: float


@dataclass
class Checks:
    """The ordered checks of one exercise module."""

    module: str
    all: list[Check] = field(default_factory=list)

    def add(self, description: str, *, devices: bool = False, hint: str | None = None, weight: float = 1.0) -> Callable[[Callable[[CheckContext], None]], Callable[[CheckContext], None]]:
        def register(run: Callable[[CheckContext], None]) -> Callable[[CheckContext], None]:
            check_id = f"{self.module}.{run.__name__}"
            if any(c.id == check_id for c in self.all):
                raise ValueError(f"duplicate check {check_id}")
            self.all.append(Check(check_id, description, run, devices, hint, weight))
            return run

        return register


class CheckContext:
    """What a running check can use: the learner, the reference, the device, seeded data."""

    def __init__(self, check: Check, learner: Learner, reference: ModuleType, device: str) -> None:
        self.check = check
        self._checked = Checked(learner)
        self.learner: Learner = self._checked
        self.reference = reference
        self.device = device
        self.module = check.id.split(".")[0]
        self.rng = torch.Generator().manual_seed(secret.seed(check.id))
        # (function, args, kwargs, expected) of each call whose value was right: evidence that
        # rules out a mistake the diagnosis would otherwise confuse with another.
        self.passed: list[tuple[str, tuple[Any, ...], dict[str, Any], torch.Tensor]] = []

    def hidden_rng(self, name: str) -> torch.Generator:
        """A generator of its own for data the learner never sees any of, such as held-out
        labels and noise: nothing the learner is given comes from its stream, so no input
        the learner sees tells anything about it."""
        return torch.Generator().manual_seed(secret.seed(self.check.id, "hidden", name))

    # --- seeded inputs --------------------------------------------------------------
    def randn(self, *shape: int, dtype: torch.dtype = torch.float32, scale: float = 1.0) -> torch.Tensor:
        values = torch.randn(shape, generator=self.rng, dtype=torch.float64)
        return (values if scale == 1.0 else values * scale).to(dtype)  # x * 1.0 is x, bit for bit

    def rand(self, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.rand(shape, generator=self.rng, dtype=torch.float64).to(dtype)

    def randint(self, high: int, *shape: int) -> torch.Tensor:
        return torch.randint(0, high, shape, generator=self.rng)

    # --- calling ----------------------------------------------------------------------
    def call(self, function: str, *args: Any, grad_wrt: tuple[int, ...] = (), grad_output: Any = None, timeout: float | None = None, **kwargs: Any) -> Reply:
        """The learner's reply, with any failure to produce a value turned into a Failure."""
        reply = self.learner.call(function, *args, device=self.device, grad_wrt=grad_wrt, grad_output=grad_output, timeout=timeout, **kwargs)
        self.require_value(reply, functools.partial(self.describe, function, args, kwargs), function)
        return reply

    def call_each(self, function: str, calls: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> list[Reply]:
        """`call` for each (args, kwargs), all sent to the worker in one request (it answers
        each in turn with no round trip in between): for checks that need many values."""
        replies = self.learner.call_many([call_request(function, args, kwargs, self.device) for args, kwargs in calls])
        for (args, kwargs), reply in zip(calls, replies, strict=True):
            self.require_value(reply, functools.partial(self.describe, function, args, kwargs), function)
        return replies

    def values_of(self, function: str, calls: list[tuple[Any, ...]]) -> list[float]:
        """`float(value.double().item())` of `function(*args)` for the first of `calls`, from one
        driver (`_drivers.values` says where it stops; [] after a forbidden call): the check makes
        the calls left with `call_each`, whose replies say what went wrong, call by call."""
        reply = self._checked.drive("values", function=function, calls=[list(args) for args in calls])
        found: list[float] = [] if reply.kind != "value" or reply.violations else reply.value["values"]
        return found

    def describe(self, function: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        return _DESCRIPTIONS.get(
            (self._reference_key, function, self.device, args, kwargs),
            lambda: compare.describe_call(attribute(self.reference, function), function, args, kwargs, self.device))

    @property
    def _reference_key(self) -> tuple[str, int]:
        return (self.reference.__name__, id(self.reference))

    def require_value(self, reply: Reply, call: Call, function: str = "") -> None:
        """Fail unless the reply carries a value produced without forbidden calls."""
        if reply.violations:
            self.fail(_violation_message(reply.violations[0]), call=call, output=reply.output)
        if reply.not_implemented:
            raise NotStarted(reply.message)
        if reply.kind in ("raised", "timeout", "crashed", "unsafe", "error", "other"):
            changed = reply.kind == "error" and reply.message.startswith(misconceptions.INPUT_CHANGED_SIGN)
            self.fail(f"Your code {reply.explain()}", call=call, output=reply.output,
                      got=reply.where.strip() or None,
                      mistake=misconceptions.by_reply(self.module, function, "inputs-modified") if changed else None)

    def reference_value(self, function: str, *args: Any, grad_wrt: tuple[int, ...] = (), grad_output: Any = None, **kwargs: Any) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        """The reference's output on this device, and its gradients for `grad_wrt` (computed
        once per process for equal inputs: see memo.py)."""
        return _REFERENCES.get(
            (self._reference_key, function, self.device, grad_wrt, grad_output, args, kwargs),
            lambda: self._compute_reference(function, args, kwargs, grad_wrt, grad_output))

    def _compute_reference(self, function: str, args: tuple[Any, ...], kwargs: dict[str, Any], grad_wrt: tuple[int, ...], grad_output: Any) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        moved = [a.to(self.device) if isinstance(a, torch.Tensor) else a for a in args]
        kwargs = {k: v.to(self.device) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
        for index in grad_wrt:
            moved[index] = moved[index].detach().requires_grad_(True)
        out = attribute(self.reference, function)(*moved, **kwargs)
        grads: list[torch.Tensor | None] = []
        if grad_wrt:
            # The vector-Jacobian product as the gradient of one number, as a worker computes
            # it (the same bits: d(sum(out * w))/d(out) is w exactly): passing grad_outputs
            # would have autograd check their shapes, which imports sympy (~0.5 s of start-up).
            total = out.sum() if grad_output is None else (out * grad_output.to(out.device, out.dtype)).sum()
            found = torch.autograd.grad(total, [moved[i] for i in grad_wrt], allow_unused=True)
            grads = [None if g is None else g.detach().cpu() for g in found]
        return out.detach(), grads

    # --- expectations -------------------------------------------------------------------
    def expect_close(self, function: str, *args: Any, grad_wrt: tuple[int, ...] = (), grad_output: Any = None, what: str = "", **kwargs: Any) -> Reply:
        """The learner's `function(*args, **kwargs)` equals the reference's: same device,
        dtype, shape and values; with `grad_wrt`, the same gradients through autograd."""
        call = functools.partial(self.describe, function, args, kwargs)
        reply = self.learner.call(function, *args, device=self.device, grad_wrt=grad_wrt, grad_output=grad_output, **kwargs)
        self.require_value(reply, call, function)
        expected, expected_grads = self.reference_value(function, *args, grad_wrt=grad_wrt, grad_output=grad_output, **kwargs)
        got = reply.value
        if reply.kind != "tensor":
            number = reply.kind == "python" and type(got) in (int, float)
            self.fail(f"Your function returned the Python value {compare.show(got)}; it should return a tensor"
                      " (keep the result a torch.Tensor: no .item() or float())",
                      call=call, got=compare.show(got), expected=compare.show(expected.cpu()), output=reply.output,
                      mistake=misconceptions.by_reply(self.module, function, "returns-python-number") if number else None)
        if reply.device != str(expected.device):
            self.fail(f"The result is on {reply.device} but the inputs were on {expected.device}; create new "
                      "tensors with device=input.device (or use torch.zeros_like and friends)", call=call, output=reply.output)
        problem = compare.mismatch(got, expected.cpu())
        if problem:
            mistake = misconceptions.diagnose(self.module, function, got, args, kwargs, expected=expected.cpu(),
                                               passed=self.passed)
            if mistake is not None and got.numel() <= 1:
                mistake = self._confirmed(mistake, function, args, kwargs)
            self.fail(f"{what or 'The result'} is wrong: {problem}.", call=call, got=compare.show(got),
                      expected=compare.show(expected.cpu()), output=reply.output, mistake=mistake)
        self.passed.append((function, args, kwargs, expected))
        if grad_wrt:
            self._expect_grads(function, call, reply, expected_grads, grad_wrt, args, kwargs, grad_output)
        return reply

    def _confirmed(self, mistake: misconceptions.Mistake, function: str, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> misconceptions.Mistake | None:
        """`mistake`, where it also explains the learner's result on the same call with its
        inputs moved round (misconceptions.confirmed: one number is weak evidence); else None."""
        again = misconceptions.rolled(args)
        if again is None:
            return mistake
        reply = self.learner.call(function, *again, device=self.device, **kwargs)
        if reply.kind != "tensor" or reply.violations:
            return None
        expected, _ = self.reference_value(function, *again, **kwargs)
        return mistake if misconceptions.confirmed(mistake, function, reply.value, again, kwargs, expected.cpu()) \
            else None

    def _expect_grads(self, function: str, call: Call, reply: Reply, expected: list[torch.Tensor | None], grad_wrt: tuple[int, ...], args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, grad_output: Any = None) -> None:
        if isinstance(reply.grads, str) or reply.grads is None:
            inplace = isinstance(reply.grads, str) and misconceptions.INPLACE_SIGN in reply.grads
            cut = isinstance(reply.grads, str) and misconceptions.DETACHED_SIGN in reply.grads
            self.fail(f"The value is right but gradients cannot flow back through it: {reply.grads}. "
                      "Build the result from the inputs with tensor operations only (no .item(), "
                      ".detach(), .numpy() or torch.tensor(...) of a result)", call=call, output=reply.output,
                      mistake=misconceptions.by_reply(self.module, function, "inplace-breaks-backward") if inplace
                      else misconceptions.by_reply(self.module, function, "result-detached") if cut else None)
        for position, got, want in zip(grad_wrt, reply.grads, expected, strict=True):  # lengths checked by fit_call
            if want is None:
                continue
            if got is None:
                self.fail(f"The gradient with respect to argument {position + 1} is missing: the result does "
                          "not depend on it through autograd", call=call)
            problem = compare.mismatch(got, want)
            if problem:
                mistake = misconceptions.diagnose_gradients(self.module, function, reply.value, reply.grads, args,
                                                            kwargs or {}, grad_wrt, grad_output,
                                                            expected_grads=expected)
                self.fail(f"The value is right but its gradient with respect to argument {position + 1} is "
                          f"wrong: {problem}. A step somewhere breaks or changes the gradient (a detach, an "
                          "in-place edit, a clamp in the wrong place?).", call=call,
                          got=compare.show(got), expected=compare.show(want), mistake=mistake)

    def expect_raises(self, function: str, *args: Any, errors: tuple[str, ...] = ("ValueError",), mention: tuple[str, ...] = (), why: str = "", **kwargs: Any) -> Reply:
        """Calling the learner's function this way must raise one of `errors`, with a
        message that mentions each string in `mention`."""
        call = functools.partial(self.describe, function, args, kwargs)
        reply = self.learner.call(function, *args, device=self.device, **kwargs)
        if reply.violations:
            self.fail(_violation_message(reply.violations[0]), call=call)
        if reply.not_implemented:
            raise NotStarted(reply.message)
        wanted = " or ".join(errors)
        if reply.kind in ("tensor", "python", "other"):
            got = compare.show(reply.value) if reply.kind != "other" else reply.other_type
            self.fail(f"This call should raise {wanted}, but it returned a value. {why}".strip(),
                      call=call, got=got, expected=f"{wanted} raised", output=reply.output)
        if not reply.raised(*errors):
            self.fail(f"This call should raise {wanted}, but your code {reply.explain()}", call=call,
                      expected=f"{wanted} raised", output=reply.output)
        missing = [m for m in mention if m not in reply.message]
        if missing:
            self.fail(f"The {reply.error_type} is right, but its message should mention {', '.join(missing)} "
                      "so the person who sees it knows what to fix", call=call,
                      got=reply.message, expected="a message mentioning " + ", ".join(missing))
        return reply

    # --- drivers: functions that take models -----------------------------------------------
    def drive(self, driver: str, report: Any, *, call: Call = "", timeout: float | None = None, **params: Any) -> Any:
        """Run the exercise's driver `driver` (its course folder's `drivers/<module>.py`)
        on the learner's module in the sandbox, with `params` (plain data and tensors), and
        return its report once it fits `report`: a schema that says everything the report
        must hold (a Python type, `TensorOf(shape, dtype)`, `ListOf(item, length=...)`,
        `AnyOf(...)`, `nullable(...)`, `Rule(schema, holds)`, or a dict of them, whose keys
        the report must have exactly). The report is learner-controlled data: a reply that
        does not fit, or carries no report (the learner's code raised outside the driver,
        hung, crashed or called a forbidden function), fails the check here; `call` says in
        words what was called, for the feedback."""
        known = self.drivers()  # a driver the exercise lacks is a bug in the course, not in the learner's code
        if driver not in known:
            raise LookupError(f"{self.module} has no driver {driver!r} (its drivers: {', '.join(sorted(known))})")
        reply = self._checked.drive_with(report, driver_name(self.module, driver), timeout, params)
        self.require_value(reply, call)
        return reply.value

    def drivers(self) -> dict[str, Callable[..., Any]]:
        """The exercise's drivers, loaded in this trusted process (see `drive_here`)."""
        return course.current().drivers(self.module)

    def drive_here(self, driver: str, functions: Any = None, **params: Any) -> Any:
        """The report that `driver` gives here, in the trusted process, for `functions` (an
        object or module with the exercise's functions: a simulated mistake, say; by default
        the reference solution): what the learner's report is compared with."""
        return self.drivers()[driver](self.reference if functions is None else functions, **params)

    def fail(self, message: str, *, call: Call | None = None, got: str | None = None, expected: str | None = None, output: str | None = None, mistake: misconceptions.Mistake | str | None = None) -> None:
        if isinstance(mistake, str):
            mistake = misconceptions.by_id(self.module, mistake)
        feedback = Feedback(message=message, call=call() if callable(call) else call, got=got, expected=expected,
                            hint=None if mistake else self.check.hint, output=output or None)
        raise Failure(feedback, mistake.as_result() if mistake else None)


class Checked:
    """A learner whose every reply is checked against its request before a check sees it:
    the right kind of reply, one gradient of the input's exact shape and dtype per input
    asked for, a driver's report with exactly the steps, names, shapes and fields that its
    parameters call for. One that does not fit arrives as kind "unsafe", which fails the
    check and says what did not fit."""

    def __init__(self, learner: Learner) -> None:
        self._learner = learner.unchecked if isinstance(learner, Checked) else learner

    @property
    def unchecked(self) -> Learner:
        return self._learner

    def load(self) -> Reply:
        return self._learner.load()

    def call(self, function: str, *args: Any, device: str = "cpu", grad_wrt: tuple[int, ...] = (),
             grad_output: Any = None, timeout: float | None = None, **kwargs: Any) -> Reply:
        return self.call_many([call_request(function, args, kwargs, device, grad_wrt, grad_output)], timeout)[0]

    def call_many(self, calls: list[dict[str, Any]], timeout: float | None = None) -> list[Reply]:
        forget_recent()  # the tensors' keys of the last call (memo.tensor_key): its look-ups are done
        replies = self._learner.call_many(calls, timeout)
        if type(replies) is not list or len(replies) != len(calls):
            return [_replies.malformed(f"{len(replies)} replies to {len(calls)} calls")] * len(calls)
        return [_replies.fit_call(reply, call) for reply, call in zip(replies, calls, strict=True)]

    def drive(self, driver: str, timeout: float | None = None, **params: Any) -> Reply:
        schema = _SCHEMAS.get((driver, params.get("model_spec"), len(params.get("batches", ())),
                               len(params.get("x_parts") or ()), len(params.get("calls", ()))),
                              lambda: _replies.report_schema(driver, params))
        return _replies.fit_drive(self._learner.drive(driver, timeout, **params), schema)

    def drive_with(self, schema: Any, driver: str, timeout: float | None, params: dict[str, Any]) -> Reply:
        """A driver's reply, checked against the `schema` its caller gives (a course's driver,
        whose report only its check knows)."""
        return _replies.fit_drive(self._learner.drive(driver, timeout, **params), schema)

    def close(self) -> None:
        self._learner.close()


_SCHEMAS = Memo(limit=256)


def attribute(module: Any, dotted: str) -> Any:
    """`module.a.b` for "a.b": a function, or a method such as "CrossEntropyFunction.apply"."""
    found = module
    for name in dotted.split("."):
        found = getattr(found, name)
    return found


def _violation_message(violation: str) -> str:
    if "the grader's" in violation:
        return (f"Your code tampered with the grader's machinery: {violation}. Learner code may not change, "
                "remove or work around the grader's guards, so no check can pass after it.")
    if violation.startswith(("import ", "open ")):
        return (f"Your code tried to `{violation}`: learner code may not use the grader, the reference "
                "solutions or other learners' work. Write the function yourself.")
    return (f"Your code called {violation}, which this exercise asks you to write yourself. Use "
            "elementary tensor operations instead (the exercise's docstring lists them).")

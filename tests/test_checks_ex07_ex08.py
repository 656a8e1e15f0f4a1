"""ex07 and ex08: each wrong order of the training step's five lines, each evaluate mistake and
each fit mistake, written as a learner would write it and graded through the real sandbox,
fails and is named; correct but unusual files pass. The equivalences that the catalogue of
wrong orders relies on are checked in-process, on our own simulations."""
from __future__ import annotations

import inspect
import re
import textwrap

import pytest

from lossgrade.course import catalog
from lossgrade import misconceptions
from lossgrade.grading import runner
from lossgrade.grading.selfcheck import grade_mistake
from lossgrade.checks import ex08_fit
from lossgrade.misconceptions import ex07_train_step as ex07_mistakes
from lossgrade.core.results import ExerciseResult, Outcome, Status

ZERO, LOSS, BACKWARD = "optimizer.zero_grad()", "loss = loss_fn(model(x), y)", "loss.backward()"
STEP, RETURN = "optimizer.step()", "return loss.item()"
EVALUATE = inspect.getsource(runner.reference(catalog.resolve("ex07")).evaluate)  # the reference's
TRAIN_STEP = "\n".join([ZERO, LOSS, BACKWARD, STEP, RETURN])


EX07_HEAD = "from typing import Callable\n\nimport torch\nfrom torch import nn\n\n\n"


def ex07_file(*lines: str, evaluate: str = EVALUATE) -> str:
    body = textwrap.indent("\n".join(lines), "    ")
    return f"{EX07_HEAD}def train_step(model, loss_fn, optimizer, x, y):\n{body}\n\n\n{textwrap.dedent(evaluate)}"


def failures(result: ExerciseResult) -> dict[str, tuple[str, str | None]]:
    """check name -> (message, the named mistake's id) for every check that did not pass."""
    assert not [c.id for c in result.checks if c.outcome is Outcome.ERROR], result.checks
    return {c.id.split(".")[1].split("[")[0]: (c.feedback.message if c.feedback else "",
                                               c.misconception.id if c.misconception else None)
            for c in result.checks if c.outcome not in (Outcome.PASSED, Outcome.SKIPPED)}


# --- train_step: the wrong orders ---------------------------------------------------------------
WRONG_FILES = {
    "step before backward": (
        [ZERO, LOSS, STEP, BACKWARD, RETURN], "ex07.no-step-after-backward",
        {"sgd_step", "adam_step", "steps_in_a_row"}, "optimizer.step() did not run after loss.backward()"),
    "no step at all": (
        [ZERO, LOSS, BACKWARD, RETURN], "ex07.no-step-after-backward",
        {"sgd_step", "adam_step", "steps_in_a_row"}, "it ran before it, or not at all"),
    "no backward at all": (
        [ZERO, LOSS, STEP, RETURN], "ex07.no-gradient-at-step",
        {"sgd_step", "adam_step", "steps_in_a_row"}, "no gradient was there to apply"),
    "backward on a loss rebuilt from .item()": (
        [ZERO, "loss = torch.tensor(loss_fn(model(x), y).item(), requires_grad=True)", BACKWARD, STEP, RETURN],
        "ex07.no-gradient-at-step", {"sgd_step", "adam_step", "steps_in_a_row"}, "no gradient was there to apply"),
    "backward on a detached output": (
        [ZERO, "loss = loss_fn(model(x).detach(), y)", BACKWARD, STEP, RETURN], "ex07.loss-without-graph",
        {"sgd_step", "adam_step", "steps_in_a_row", "returns_loss_before_update"}, "no graph back to"),
    "backward on loss.item()": (
        [ZERO, "loss = loss_fn(model(x), y).item()", BACKWARD, STEP, "return loss"], "ex07.loss-without-graph",
        {"sgd_step", "adam_step", "steps_in_a_row", "returns_loss_before_update"}, "turned into a number"),
    "step first": (  # one call cannot tell a step before backward from no step: both names are right
        [STEP, ZERO, LOSS, BACKWARD, RETURN], ("ex07.step-before-backward", "ex07.no-step-after-backward"),
        {"sgd_step", "adam_step", "steps_in_a_row"}, "previous call's gradient"),
    "step between forward and backward": (
        [LOSS, STEP, ZERO, BACKWARD, RETURN], ("ex07.step-before-backward", "ex07.no-step-after-backward"),
        {"sgd_step", "adam_step", "steps_in_a_row"}, "step() ran between the forward pass and backward()"),
    "no zero_grad": (
        [LOSS, BACKWARD, STEP, RETURN], "ex07.no-zero-grad", {"steps_in_a_row"}, "never cleared"),
    "zero_grad between backward and step": (
        [LOSS, BACKWARD, ZERO, STEP, RETURN], "ex07.no-gradient-at-step",
        {"sgd_step", "adam_step", "steps_in_a_row"}, "no gradient was there to apply"),
    "backward twice": (
        [ZERO, LOSS, BACKWARD, BACKWARD, STEP, RETURN], "ex07.backward-twice",
        {"sgd_step", "adam_step", "steps_in_a_row", "returns_loss_before_update"}, "a second time"),
    "backward twice, graph retained": (
        [ZERO, LOSS, "loss.backward(retain_graph=True)", BACKWARD, STEP, RETURN], "ex07.backward-twice",
        {"sgd_step", "steps_in_a_row"}, "twice this batch's gradient"),
    "loss measured after the update": (
        [ZERO, LOSS, BACKWARD, STEP, "return loss_fn(model(x), y).item()"], "ex07.loss-after-update",
        {"returns_loss_before_update"}, "after optimizer.step()"),
    "the tensor returned": (
        [ZERO, LOSS, BACKWARD, STEP, "return loss"], "ex07.returned-tensor",
        {"returns_loss_before_update"}, "returned a torch.Tensor that still carries"),
}


@pytest.mark.parametrize("case", WRONG_FILES)
def test_each_wrong_order_fails_and_is_named(grade_source, case):
    lines, mistake, must_fail, words = WRONG_FILES[case]
    failed = failures(grade_source("ex07", ex07_file(*lines)))
    assert must_fail <= failed.keys()
    allowed = {mistake} if isinstance(mistake, str) else set(mistake)
    named = {named for _, named in failed.values()}
    assert None not in named and named <= allowed  # every failure names it, none names another
    assert isinstance(mistake, str) or "ex07.step-before-backward" in named
    assert any(words in message for message, _ in failed.values())


CORRECT_FILES = {
    "zero_grad(set_to_none=False)": [ZERO.replace("()", "(set_to_none=False)"), LOSS, BACKWARD, STEP, RETURN],
    "zero_grad last": [LOSS, BACKWARD, STEP, ZERO, RETURN],
    "zero_grad between forward and backward": [LOSS, ZERO, BACKWARD, STEP, RETURN],
    "model.zero_grad() and float(loss)": ["model.zero_grad()", LOSS, BACKWARD, STEP, "return float(loss)"],
    "grads set to None by hand, forward split": [
        "for p in model.parameters():", "    p.grad = None", "prediction = model(x)", "loss = loss_fn(prediction, y)",
        BACKWARD, STEP, "return loss.detach().item()"],
}
UNUSUAL_EVALUATE = """
@torch.no_grad()
def evaluate(model, loss_fn, x, y):
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.inference_mode():
            loss = loss_fn(model(x), y)
        return float(loss)
    finally:
        for m, mode in modes.items():
            m.training = mode
"""


@pytest.mark.parametrize("case", CORRECT_FILES)
def test_correct_but_unusual_train_steps_pass(grade_source, case):
    evaluate = UNUSUAL_EVALUATE if case == "zero_grad last" else EVALUATE
    result = grade_source("ex07", ex07_file(*CORRECT_FILES[case], evaluate=evaluate))
    assert failures(result) == {}
    assert result.status is Status.PASSED


# --- evaluate ---------------------------------------------------------------------------------
WRONG_EVALUATES = {
    "no model.eval()": ("""
        def evaluate(model, loss_fn, x, y):
            with torch.no_grad():
                return loss_fn(model(x), y).item()
        """, "ex07.evaluate-in-train-mode", {"evaluate_value", "evaluate_changes_nothing"}, "training mode"),
    "no torch.no_grad()": ("""
        def evaluate(model, loss_fn, x, y):
            was_training = model.training
            model.eval()
            try:
                return loss_fn(model(x), y).item()
            finally:
                model.train(was_training)
        """, "ex07.evaluate-without-no-grad", {"evaluate_changes_nothing"}, "requires_grad=True"),
    "backward in evaluate": ("""
        def evaluate(model, loss_fn, x, y):
            was_training = model.training
            model.eval()
            try:
                loss = loss_fn(model(x), y)
                loss.backward()
                return loss.item()
            finally:
                model.train(was_training)
        """, "ex07.evaluate-without-no-grad", {"evaluate_changes_nothing"}, ".grad of '0.weight' held a gradient"),
    "mode never restored": ("""
        def evaluate(model, loss_fn, x, y):
            model.eval()
            with torch.no_grad():
                return loss_fn(model(x), y).item()
        """, "ex07.evaluate-mode-not-restored", {"evaluate_restores_mode", "evaluate_restores_mode_on_error"},
        "in train mode before evaluate and in eval mode after it"),
    "model.train() at the end": ("""
        def evaluate(model, loss_fn, x, y):
            model.eval()
            try:
                with torch.no_grad():
                    return loss_fn(model(x), y).item()
            finally:
                model.train()
        """, "ex07.evaluate-mode-not-restored", {"evaluate_restores_mode"},
        "in eval mode before evaluate and in train mode after it"),
    "no finally": ("""
        def evaluate(model, loss_fn, x, y):
            was_training = model.training
            model.eval()
            with torch.no_grad():
                loss = loss_fn(model(x), y).item()
            model.train(was_training)
            return loss
        """, "ex07.evaluate-mode-lost-on-error", {"evaluate_restores_mode_on_error"}, "The forward pass raised"),
    "autograd switched off for good": ("""
        def evaluate(model, loss_fn, x, y):
            was_training = model.training
            model.eval()
            torch.set_grad_enabled(False)
            try:
                return loss_fn(model(x), y).item()
            finally:
                model.train(was_training)
        """, "ex07.evaluate-left-grad-off", {"evaluate_changes_nothing"}, "left autograd switched off"),
    "the tensor returned": ("""
        def evaluate(model, loss_fn, x, y):
            was_training = model.training
            model.eval()
            try:
                with torch.no_grad():
                    return loss_fn(model(x), y)
            finally:
                model.train(was_training)
        """, "ex07.returned-tensor", {"evaluate_value"}, "evaluate returned a torch.Tensor"),
    "zero_grad in evaluate": ("""
        def evaluate(model, loss_fn, x, y):
            was_training = model.training
            model.eval()
            model.zero_grad()
            try:
                with torch.no_grad():
                    return loss_fn(model(x), y).item()
            finally:
                model.train(was_training)
        """, "ex07.evaluate-zeroed-grads", {"evaluate_changes_nothing"}, "accumulated before the evaluation"),
}


@pytest.mark.parametrize("case", WRONG_EVALUATES)
def test_each_evaluate_mistake_fails_and_is_named(grade_source, case):
    source, mistake, must_fail, words = WRONG_EVALUATES[case]
    failed = failures(grade_source("ex07", ex07_file(TRAIN_STEP, evaluate=source)))
    assert failed.keys() == must_fail
    assert {named for _, named in failed.values()} == {mistake}
    assert all(words in message for message, _ in failed.values())


# --- the catalogue's equivalences, on our own simulations --------------------------------------
@pytest.mark.parametrize("order,mistake", [
    ("loss, step, backward, zero_grad", "ex07.no-gradient-at-step"),
    ("step, loss, backward, zero_grad", "ex07.no-gradient-at-step"),
    ("zero_grad, loss, step", "ex07.no-gradient-at-step"),
    ("zero_grad, loss as a number, backward, step", "ex07.no-gradient-at-step"),
    ("zero_grad, step, loss, backward", "ex07.no-step-after-backward"),
    ("loss, zero_grad, step, backward", "ex07.no-step-after-backward"),
    ("step, loss, zero_grad, backward", "ex07.step-before-backward"),
    ("loss, step, backward", "ex07.step-before-backward"),
    ("step, loss, backward", "ex07.step-before-backward"),  # the one catalogued order not written as a file above
    ("zero_grad, loss, backward", "ex07.no-step-after-backward"),  # no step at all: nothing moves either
])
def test_orders_the_catalogue_covers_by_equivalence_are_named(order, mistake):
    result = grade_mistake(catalog.resolve("ex07"), "train_step", ex07_mistakes.in_order(order))
    assert result.status is Status.FAILED
    named = {c.misconception.id for c in result.checks if c.misconception}
    # a single call that moved nothing cannot tell a step before backward from no step: both names fit there
    assert mistake in named and named <= {mistake, "ex07.no-step-after-backward"}


# --- ex08 -------------------------------------------------------------------------------------
EX08_HEAD = """
import time
import torch
from torch import nn


def fit_regression(x, y):
    raise NotImplementedError


def fit_classifier(x, y, num_classes):
    raise NotImplementedError
"""


def ex08_file(source: str) -> str:
    return EX08_HEAD + textwrap.dedent(source)


def test_a_classifier_returning_probabilities_is_named(grade_source):
    result = grade_source("ex08", ex08_file("""
        def fit_classifier(x, y, num_classes):
            torch.manual_seed(0)
            net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, num_classes))
            optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
            for _ in range(100):
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(net(x), y)
                loss.backward()
                optimizer.step()
            return nn.Sequential(net, nn.Softmax(dim=1))
        """))
    message, mistake = failures(result)["classifier"]
    assert mistake == "ex08.probabilities-not-logits"
    assert "returns probabilities" in message
    assert {c.id.split(".")[1]: c.outcome for c in result.checks}["regression"] is Outcome.NOT_STARTED


def test_a_regression_that_predicts_the_mean_is_named(grade_source):
    failed = failures(grade_source("ex08", ex08_file("""
        class Average(nn.Module):
            def __init__(self, value):
                super().__init__()
                self.value = nn.Parameter(value)

            def forward(self, x):
                return self.value.expand(len(x), 1)


        def fit_regression(x, y):
            return Average(y.mean().reshape(1))
        """)))
    message, mistake = failed["regression"]
    assert mistake == "ex08.predicts-the-mean"
    assert "about the same time for every distance" in message


def test_a_regression_whose_output_is_still_standardised_is_named_so_not_as_the_mean(grade_source):
    """Trained well on standardised times but never converted back to minutes: its output has
    a spread of about 1 around 0, which is not "about the same time for every distance"."""
    failed = failures(grade_source("ex08", ex08_file("""
        class Scaled(nn.Module):
            def __init__(self, x):
                super().__init__()
                self.register_buffer("mean", x.mean(0))
                self.register_buffer("std", x.std(0))
                self.lin = nn.Linear(1, 1)

            def forward(self, x):
                return self.lin((x - self.mean) / self.std)


        def fit_regression(x, y):
            torch.manual_seed(0)
            model = Scaled(x)
            ys = (y - y.mean()) / y.std()
            optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
            for _ in range(300):
                optimizer.zero_grad()
                nn.functional.mse_loss(model(x), ys).backward()
                optimizer.step()
            return model
        """)))
    message, mistake = failed["regression"]
    assert mistake == "ex08.output-still-standardised"
    assert "still standardised" in message and "would have a held-out MSE" in message


def test_a_fit_that_returns_no_module_fails_clearly(grade_source):
    failed = failures(grade_source("ex08", ex08_file("""
        def fit_regression(x, y):
            model = nn.Linear(1, 1)
            return model, [1.0, 0.5]
        """)))
    assert failed["regression"][0].startswith("fit_regression returned a tuple, not a model.")


@pytest.mark.parametrize("loop", ["while True:\n    pass", "while True:\n    try:\n        time.sleep(10)\n"
                                                          "    except BaseException:\n        pass"])
def test_a_fit_that_never_returns_is_stopped(grade_source, monkeypatch, loop):
    """The stop comes from the driver's timer, or (if the learner's code swallows it) from the
    grader killing the worker: the learner reads the same sentence either way."""
    monkeypatch.setattr(ex08_fit, "FIT_SECONDS", 1.0)
    monkeypatch.setattr(ex08_fit, "GRACE_SECONDS", 1.0)
    body = textwrap.indent(loop, "    ")
    failed = failures(grade_source("ex08", ex08_file(f"def fit_regression(x, y):\n{body}\n")))
    assert failed["regression"][0].startswith("Your fit_regression was stopped after 1 s")


# --- the catalogues -----------------------------------------------------------------------------
def test_every_catalogued_mistake_is_well_formed_and_exercised_above():
    exercised = {name for case in [*WRONG_FILES.values(), *WRONG_EVALUATES.values()]
                 for name in ((case[1],) if isinstance(case[1], str) else case[1])}
    exercised |= {"ex08.probabilities-not-logits", "ex08.predicts-the-mean", "ex08.output-still-standardised"}
    exercised |= {m.id for m in misconceptions.catalogue("ex08_fit")}  # and tests/corpus/ex08 names the others
    catalogued = [m for module in ("ex07_train_step", "ex08_fit") for m in misconceptions.catalogue(module)]
    assert {m.id for m in catalogued} == exercised
    assert {order.mistake for order in ex07_mistakes.WRONG_ORDERS} <= exercised
    for mistake in catalogued:
        assert re.fullmatch(r"ex0[78]\.[a-z]+(-[a-z]+)*", mistake.id)
        assert mistake.function == "" and mistake.wrong is None  # diagnosed by the checks, from behaviour
        assert "\n" not in mistake.name and mistake.message.endswith(".")
        quiz, _, question = (mistake.quiz or "").partition("#")
        assert quiz in {"training-step", "logits", "loss-scales", "targets", "choosing-a-loss"} and question

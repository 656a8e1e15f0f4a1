"""Mistakes learners make in a training step and in an evaluation.

They are diagnosed by behaviour, not by reading code. For `train_step`, every wrong order of
the five lines (zero_grad, forward and loss, backward, step, return) is written out below
as a simulation; the check runs each one in the trusted process on the same model, data and
optimizer as the learner's run, and names the mistake whose parameters, gradients and
errors, call after call, are the learner's. For `evaluate`, the driver observes what
happened (the model's mode during the forward pass, whether autograd was recording, the
mode afterwards) and the check names the mistake from that.

Orders that are equivalent to the reference, and so never named: zero_grad first; zero_grad
between the forward pass and backward(); zero_grad last, after step() (the gradients are
cleared after step() used them and before the next backward()).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from lossgrade.misconceptions import Mistake

STEP_BEFORE_BACKWARD = "ex07.step-before-backward"
NO_STEP_AFTER_BACKWARD = "ex07.no-step-after-backward"
NO_ZERO_GRAD = "ex07.no-zero-grad"
NO_GRADIENT_AT_STEP = "ex07.no-gradient-at-step"
LOSS_WITHOUT_GRAPH = "ex07.loss-without-graph"
BACKWARD_TWICE = "ex07.backward-twice"
LOSS_AFTER_UPDATE = "ex07.loss-after-update"
RETURNED_TENSOR = "ex07.returned-tensor"
EVAL_TRAIN_MODE = "ex07.evaluate-in-train-mode"
EVAL_NO_GRAD = "ex07.evaluate-without-no-grad"
EVAL_MODE_NOT_RESTORED = "ex07.evaluate-mode-not-restored"
EVAL_NO_FINALLY = "ex07.evaluate-mode-lost-on-error"
EVAL_GRAD_LEFT_OFF = "ex07.evaluate-left-grad-off"
EVAL_ZEROED_GRADS = "ex07.evaluate-zeroed-grads"

MISCONCEPTIONS = [
    Mistake(
        id=STEP_BEFORE_BACKWARD, function="",
        name="Called optimizer.step() before loss.backward()",
        message="step() moves each parameter by the gradient that backward() stored in .grad. Run before "
                "backward(), it finds no gradient (nothing moves), the previous batch's gradient (every update "
                "lags one step behind), or it changes the weights that backward() still needs (on a model of "
                "two layers, backward() then raises a RuntimeError). Diagnose "
                "first, then update: loss.backward(), then optimizer.step().",
        quiz="training-step#step-before-backward",
    ),
    Mistake(
        id=NO_ZERO_GRAD, function="",
        name="Never cleared the gradients (no zero_grad)",
        message="backward() adds to .grad; it does not replace it. Without optimizer.zero_grad() each step "
                "follows the sum of every gradient so far instead of the current batch's (with plain SGD the "
                "updates grow step after step). Clear the "
                "gradients once per step, before backward() (or after step()).",
        quiz="training-step#gradients-never-zeroed",
    ),
    Mistake(
        id=NO_STEP_AFTER_BACKWARD, function="",
        name="optimizer.step() did not run after loss.backward()",
        message="The parameters never moved although .grad held this batch's gradient when train_step "
                "returned: optimizer.step() either ran before loss.backward() (and found no gradient yet) or "
                "did not run at all. Diagnose first, then update: loss.backward(), then optimizer.step().",
        quiz="training-step#step-before-backward",
    ),
    Mistake(
        id=NO_GRADIENT_AT_STEP, function="",
        name="optimizer.step() never saw a gradient",
        message="The parameters never moved and .grad was empty after every call, so step() found nothing to "
                "apply. From the outside these look the same: zero_grad() between backward() and step() "
                "(it throws the gradients away: since torch 2.0 it sets each .grad to None), so step() skips every "
                "parameter and the model never learns; step() before backward() with the gradients cleared at the "
                "end, or a backward() that never reached the parameters (missing, or called on a loss rebuilt "
                "from loss.item()). The order is zero_grad, forward and loss, backward, step.",
        quiz="training-step#zero-grad-placement",
    ),
    Mistake(
        id=LOSS_WITHOUT_GRAPH, function="",
        name="Called backward() on a loss that no longer carries the forward pass's graph",
        message="backward() can only follow a loss built from the model's output by tensor operations. A loss "
                "turned into a Python number (.item(), float()) or a new tensor made from one (torch.tensor), "
                "or a detached output, has no graph back to the parameters, so backward() fails or reaches "
                "nothing. Call backward() on the loss tensor itself; take .item() only for the value you return.",
        quiz="training-step#loss-item",
    ),
    Mistake(
        id=BACKWARD_TWICE, function="",
        name="Called backward() twice in one step",
        message="Each backward() adds the gradient to .grad once more, so two calls double it and, with plain "
                "SGD, the step is twice as long as it should be (without retain_graph=True the second call "
                "raises a RuntimeError because the "
                "graph is already freed). Call loss.backward() exactly once per step.",
        quiz="training-step#gradients-never-zeroed",
    ),
    Mistake(
        id=LOSS_AFTER_UPDATE, function="",
        name="Returned the loss measured after the update",
        message="train_step returns the loss that the step was computed from, measured before "
                "optimizer.step() changed the weights. Measuring again after the update costs a forward pass "
                "and reports a number that belongs to the next step. Return loss.item() of the loss you "
                "called backward() on.",
        quiz="training-step#returns-loss-before-update",
    ),
    Mistake(
        id=RETURNED_TENSOR, function="",
        name="Returned the loss tensor instead of a Python float",
        message="The loss is a 0-d tensor that (in training) holds the whole graph of the forward pass. Code "
                "that adds up returned losses over an epoch would keep every graph alive and run out of memory. "
                "Return loss.item(), a plain Python float.",
        quiz="training-step#loss-item",
    ),
    Mistake(
        id=EVAL_TRAIN_MODE, function="",
        name="Evaluated in training mode (no model.eval())",
        message="In training mode dropout zeroes random units and batch norm normalises with the batch's own "
                "statistics (and updates its running averages), so the evaluation is noisy and changes the "
                "model. Call model.eval() before the forward pass.",
        quiz="training-step#evaluate-in-train-mode",
    ),
    Mistake(
        id=EVAL_NO_GRAD, function="",
        name="Evaluated without torch.no_grad()",
        message="model.eval() does not stop autograd: without torch.no_grad() the forward pass records a graph "
                "for a backward() that never comes, costing memory and time, and a backward() there would put "
                "gradients in .grad. Wrap the evaluation in `with torch.no_grad():`.",
        quiz="training-step#no-grad-for-evaluation",
    ),
    Mistake(
        id=EVAL_GRAD_LEFT_OFF, function="",
        name="Switched autograd off for good instead of for the evaluation",
        message="torch.set_grad_enabled(False) (or torch.autograd.set_grad_enabled) stays in force after "
                "evaluate returns, so the training step that follows computes no gradients at all. Use "
                "`with torch.no_grad():`, which switches autograd back on when the block ends, even on an "
                "error.",
        quiz="training-step#no-grad-for-evaluation",
    ),
    Mistake(
        id=EVAL_ZEROED_GRADS, function="",
        name="Zeroed the gradients in evaluate",
        message="evaluate called model.zero_grad() (or optimizer.zero_grad()), which wipes the gradients the "
                "training loop has accumulated so far, for example over several micro-batches before one step. "
                "An evaluation under torch.no_grad() adds nothing to .grad, so it has nothing to clean up: "
                "leave .grad as you found it.",
        quiz="training-step#no-grad-for-evaluation",
    ),
    Mistake(
        id=EVAL_MODE_NOT_RESTORED, function="",
        name="Did not put the model back in the mode it was in",
        message="evaluate is called in the middle of training, and the training loop expects the model to "
                "come back as it was: in train mode if it was training, in eval mode if it was not. Remember "
                "`was_training = model.training` first and call `model.train(was_training)` at the end.",
        quiz="training-step#evaluate-in-train-mode",
    ),
    Mistake(
        id=EVAL_NO_FINALLY, function="",
        name="Lost the model's mode when the forward pass raised",
        message="When the forward pass raises, the lines after it never run, so a model.train(was_training) "
                "at the end is skipped and the model stays in eval mode. Restore the mode in a `finally:` "
                "block so that it runs on every way out of the function.",
        quiz="training-step#evaluate-in-train-mode",
    ),
]


# --- the wrong orders, as simulations ----------------------------------------------------
TrainStep = Callable[[Any, Any, Any, Any, Any], float]


def in_order(order: str) -> TrainStep:
    """A train_step making the calls that `order` names ("zero_grad, loss, backward, step"),
    in that order; it returns the loss, or the loss measured again if "loss again" is named."""
    calls = order.split(", ")

    def train_step(model: Any, loss_fn: Any, optimizer: Any, x: Any, y: Any) -> float:
        loss: Any = None
        returned: Any = None
        for call in calls:
            if call == "zero_grad":
                optimizer.zero_grad()
            elif call == "loss":
                loss = returned = loss_fn(model(x), y)
            elif call == "loss as a number":
                loss = torch.tensor(loss_fn(model(x), y).item(), requires_grad=True)
                returned = loss
            elif call == "loss from a detached output":
                loss = returned = loss_fn(model(x).detach(), y)
            elif call == "loss.item()":
                loss = returned = loss_fn(model(x), y).item()
            elif call == "loss again":
                returned = loss_fn(model(x), y)
            elif call == "backward":
                loss.backward()
            elif call == "backward(retain_graph=True)":
                loss.backward(retain_graph=True)
            elif call == "step":
                optimizer.step()
            else:
                raise ValueError(f"unknown call {call!r}")
        return float(returned.detach()) if isinstance(returned, torch.Tensor) else float(returned)

    return train_step


@dataclass(frozen=True)
class WrongOrder:
    mistake: str  # the Mistake's id
    order: str  # the calls this version makes, in order (see `in_order`)
    shows: str  # what the learner's run shows, in words, when it matches this one

    @property
    def train_step(self) -> TrainStep:
        return in_order(self.order)


_NOTHING_MOVED = ("the parameters did not move at all, although .grad held this batch's gradient afterwards: "
                  "optimizer.step() did not run after loss.backward() had filled .grad (it ran before it, or not "
                  "at all)")
_LAGGING = ("each call moved the parameters by the previous call's gradient (the first call did not move "
            "them at all): optimizer.step() ran before loss.backward() of the same call")
_CHANGED_UNDER_BACKWARD = ("loss.backward() failed because optimizer.step() had already changed the weights "
                           "that the forward pass used: step() ran between the forward pass and backward()")
_WIPED = ("the parameters did not move and .grad was empty after every call: when step() ran, no gradient was "
          "there to apply")

# In the order the diagnosis tries them: the first that reproduces the learner's run names it.
WRONG_ORDERS = (
    WrongOrder(NO_GRADIENT_AT_STEP, "loss, backward, zero_grad, step", _WIPED),
    WrongOrder(NO_STEP_AFTER_BACKWARD, "zero_grad, loss, step, backward", _NOTHING_MOVED),
    WrongOrder(STEP_BEFORE_BACKWARD, "step, zero_grad, loss, backward", _LAGGING),
    WrongOrder(STEP_BEFORE_BACKWARD, "loss, step, zero_grad, backward", _CHANGED_UNDER_BACKWARD),
    WrongOrder(STEP_BEFORE_BACKWARD, "step, loss, backward", _LAGGING + ", and the gradients were never cleared"),
    WrongOrder(NO_ZERO_GRAD, "loss, backward, step", "from the second call on, .grad held the sum of this batch's "
               "gradient and every earlier one, and the step followed that sum: the gradients were never cleared"),
    WrongOrder(BACKWARD_TWICE, "zero_grad, loss, backward, backward, step", "loss.backward() was called a second "
               "time on the same loss and failed: the graph had been freed by the first call"),
    WrongOrder(BACKWARD_TWICE, "zero_grad, loss, backward(retain_graph=True), backward, step", ".grad held "
               "exactly twice this batch's gradient and the step followed it: backward() ran twice"),
    WrongOrder(LOSS_WITHOUT_GRAPH, "zero_grad, loss from a detached output, backward, step", "loss.backward() "
               "failed: the loss had no graph back to the model's parameters (a detached output)"),
    WrongOrder(LOSS_WITHOUT_GRAPH, "zero_grad, loss.item(), backward, step", "loss.backward() failed on a Python "
               "float: the loss had been turned into a number before backward()"),
    WrongOrder(LOSS_AFTER_UPDATE, "zero_grad, loss, backward, step, loss again", "the value returned is the loss "
               "measured again after optimizer.step(), not the loss that the step was computed from"),
)
# Orders that behave like one above, call for call, on every model and optimizer: "loss, step,
# backward, zero_grad", "step, loss, backward, zero_grad", "zero_grad, loss, step" (no backward)
# and "zero_grad, loss as a number, backward, step" (never move, .grad empty: as the first, whose
# mistake names every one of these causes); "zero_grad, loss, backward" (no step: as the second); "zero_grad, step, loss, backward" and "loss, zero_grad, step, backward" (as the
# second); "step, loss, zero_grad, backward" (as the third); "loss, step, backward" (as the
# fourth: backward() fails once a step has changed the weights).

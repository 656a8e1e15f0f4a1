"""Mistakes learners make when they accumulate gradients and train in mixed precision.

Diagnosed by behaviour, never by reading code: each mistake below carries a wrong
`accumulated_step` or `amp_step` that makes it, and the checks run it through the exercise's
own driver (`drivers/ex15_train_at_scale.py`) in the trusted process, on the same model,
data, optimizer and scaler as the learner's run. A mistake is named when its run, call
after call (the parameters, the optimizer steps taken, the scaler's scale, the error
raised), is the learner's, and no other mistake's run is.

Variants that are right, and so never named: zero_grad at the end instead of the start;
`zero_grad(set_to_none=False)`; summing the micro-batch losses and calling backward() once
on their mean; dividing .grad by the count after the loop (for SGD and Adam alike);
`scaler.unscale_` without clipping; clipping by hand to the same total norm; backward()
inside the autocast block (its result is the same: each gradient runs in the type its
forward operation used); the loss computed outside autocast (an MSE loss casts to float32
either way).
"""
from __future__ import annotations

from typing import Any

import torch

from lossgrade.misconceptions import Mistake

NOT_DIVIDED = "ex15.accumulation-not-divided"
ZERO_GRAD_INSIDE = "ex15.zero-grad-per-micro-batch"
STEP_PER_MICRO_BATCH = "ex15.step-per-micro-batch"
NO_ZERO_GRAD = "ex15.accumulation-never-zeroed"
RETURNED_SUM = "ex15.returned-summed-loss"
RETURNED_TENSOR = "ex15.returned-tensor"
CLIPPED_SCALED = "ex15.clipped-scaled-gradients"
NO_UPDATE = "ex15.scaler-never-updated"
STEPPED_ON_INF = "ex15.stepped-on-inf"
UNSCALED_BACKWARD = "ex15.backward-without-scaling"
NO_AUTOCAST = "ex15.no-autocast"
RETURNED_SCALED = "ex15.returned-scaled-loss"

QUIZ = "training-at-scale"


# --- accumulated_step, right but for one thing each ---------------------------------------
def _accumulate(model: Any, loss_fn: Any, optimizer: Any, micro_batches: Any, *, divide: bool = True,
                zero: str = "once", step: str = "once") -> tuple[float, torch.Tensor]:
    count = len(micro_batches)
    if zero == "once":
        optimizer.zero_grad()
    total = 0.0
    last = torch.zeros(())
    for x, y in micro_batches:
        if zero == "each":
            optimizer.zero_grad()
        last = loss = loss_fn(model(x), y)
        (loss / count if divide else loss).backward()
        total += loss.item()
        if step == "each":
            optimizer.step()
    if step == "once":
        optimizer.step()
    return total / count, last


def not_divided(model: Any, loss_fn: Any, optimizer: Any, micro_batches: Any) -> float:
    return _accumulate(model, loss_fn, optimizer, micro_batches, divide=False)[0]


def zero_grad_inside(model: Any, loss_fn: Any, optimizer: Any, micro_batches: Any) -> float:
    return _accumulate(model, loss_fn, optimizer, micro_batches, zero="each")[0]


def step_per_micro_batch(model: Any, loss_fn: Any, optimizer: Any, micro_batches: Any) -> float:
    return _accumulate(model, loss_fn, optimizer, micro_batches, zero="each", step="each")[0]


def never_zeroed(model: Any, loss_fn: Any, optimizer: Any, micro_batches: Any) -> float:
    return _accumulate(model, loss_fn, optimizer, micro_batches, zero="never")[0]


def returned_sum(model: Any, loss_fn: Any, optimizer: Any, micro_batches: Any) -> float:
    return _accumulate(model, loss_fn, optimizer, micro_batches)[0] * len(micro_batches)


def returned_tensor(model: Any, loss_fn: Any, optimizer: Any, micro_batches: Any) -> torch.Tensor:
    optimizer.zero_grad()
    losses = [loss_fn(model(x), y) for x, y in micro_batches]
    total = torch.stack(losses).mean()
    total.backward()
    optimizer.step()
    return total


# --- amp_step, right but for one thing each -----------------------------------------------
def _amp(model: Any, loss_fn: Any, optimizer: Any, scaler: Any, x: Any, y: Any, max_norm: Any = None, *,
         autocast: bool = True, scale: bool = True, unscale: bool = True, through_scaler: bool = True,
         update: bool = True) -> tuple[float, torch.Tensor]:
    dtype = torch.float16 if x.device.type == "cuda" else torch.bfloat16
    optimizer.zero_grad()
    with torch.autocast(device_type=x.device.type, dtype=dtype, enabled=autocast):
        loss = loss_fn(model(x), y)
    scaled = scaler.scale(loss) if scale else loss
    scaled.backward()
    if max_norm is not None or not through_scaler:
        if unscale:
            scaler.unscale_(optimizer)
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    if through_scaler:
        scaler.step(optimizer)
    else:
        optimizer.step()
    if update:
        scaler.update()
    return loss.item(), scaled


def clipped_scaled(model: Any, loss_fn: Any, optimizer: Any, scaler: Any, x: Any, y: Any, max_norm: Any = None) -> float:
    return _amp(model, loss_fn, optimizer, scaler, x, y, max_norm, unscale=False)[0]


def never_updated(model: Any, loss_fn: Any, optimizer: Any, scaler: Any, x: Any, y: Any, max_norm: Any = None) -> float:
    return _amp(model, loss_fn, optimizer, scaler, x, y, max_norm, update=False)[0]


def stepped_on_inf(model: Any, loss_fn: Any, optimizer: Any, scaler: Any, x: Any, y: Any, max_norm: Any = None) -> float:
    return _amp(model, loss_fn, optimizer, scaler, x, y, max_norm, through_scaler=False)[0]


def unscaled_backward(model: Any, loss_fn: Any, optimizer: Any, scaler: Any, x: Any, y: Any, max_norm: Any = None) -> float:
    return _amp(model, loss_fn, optimizer, scaler, x, y, max_norm, scale=False)[0]


def no_autocast(model: Any, loss_fn: Any, optimizer: Any, scaler: Any, x: Any, y: Any, max_norm: Any = None) -> float:
    return _amp(model, loss_fn, optimizer, scaler, x, y, max_norm, autocast=False)[0]


def returned_scaled(model: Any, loss_fn: Any, optimizer: Any, scaler: Any, x: Any, y: Any, max_norm: Any = None) -> float:
    return float(_amp(model, loss_fn, optimizer, scaler, x, y, max_norm)[1].item())


MISCONCEPTIONS = [
    Mistake(
        id=NOT_DIVIDED, function="accumulated_step", wrong=not_divided,
        name="Did not divide each micro-batch's loss by the number of micro-batches",
        message="backward() adds each micro-batch's gradient to .grad, so after k micro-batches .grad holds the "
                "sum of k gradients: k times the gradient of the whole batch's mean loss, and the step is k times "
                "too long (with SGD; Adam hides part of it, and the next learning-rate change undoes it). Divide "
                "each micro-batch's loss by their count before backward(): (loss / len(micro_batches)).backward().",
        quiz=f"{QUIZ}#divide-by-micro-batches",
    ),
    Mistake(
        id=ZERO_GRAD_INSIDE, function="accumulated_step", wrong=zero_grad_inside,
        name="Zeroed the gradients inside the micro-batch loop",
        message="zero_grad() wipes .grad, so zeroing before each micro-batch throws away every gradient "
                "accumulated so far: the one step that follows uses the last micro-batch's gradient alone. "
                "Accumulating means letting backward() add up: zero once, before the loop (or after the step).",
        quiz=f"{QUIZ}#zero-grad-once",
    ),
    Mistake(
        id=STEP_PER_MICRO_BATCH, function="accumulated_step", wrong=step_per_micro_batch,
        name="Took an optimizer step after every micro-batch",
        message="A step per micro-batch is plain small-batch training: each step follows one micro-batch's "
                "gradient, and the optimizer takes k steps where the big batch takes one (its momentum and "
                "Adam's step count run k times too fast). Step once, after the last micro-batch's backward().",
        quiz=f"{QUIZ}#zero-grad-once",
    ),
    Mistake(
        id=NO_ZERO_GRAD, function="accumulated_step", wrong=never_zeroed,
        name="Never zeroed the gradients between steps",
        message="backward() adds to whatever .grad holds, including the previous call's accumulated gradient: "
                "without zero_grad() the second step follows the sum of both batches' gradients. Zero the "
                "gradients once per step, before the first micro-batch.",
        quiz=f"{QUIZ}#zero-grad-once",
    ),
    Mistake(
        id=RETURNED_SUM, function="accumulated_step", wrong=returned_sum,
        name="Returned the sum of the micro-batch losses instead of their mean",
        message="The value reported for a step should be comparable whatever the number of micro-batches: the "
                "whole batch's mean loss, which is the mean of the micro-batches' losses. Their sum grows with "
                "the number of micro-batches. Divide the total by len(micro_batches).",
        quiz=f"{QUIZ}#divide-by-micro-batches",
    ),
    Mistake(
        id=RETURNED_TENSOR, function="accumulated_step", wrong=returned_tensor,
        name="Returned the loss tensor instead of a Python float",
        message="The loss is a tensor that holds the forward pass's graph; a training loop that adds up returned "
                "losses keeps every graph alive and runs out of memory. Return a Python float (loss.item(), "
                "summed and divided).",
        quiz=f"{QUIZ}#divide-by-micro-batches",
    ),
    Mistake(
        id=CLIPPED_SCALED, function="amp_step", wrong=clipped_scaled,
        name="Clipped the gradients while they were still scaled",
        message="After scaler.scale(loss).backward() every gradient is S times too large (S is the scale, "
                "2**16 by default), so clip_grad_norm_ sees a norm S times too large and shrinks the gradients "
                "about S times too much. Call scaler.unscale_(optimizer) first, then clip; scaler.step() knows "
                "they are unscaled already.",
        quiz=f"{QUIZ}#unscale-before-clipping",
    ),
    Mistake(
        id=NO_UPDATE, function="amp_step", wrong=never_updated,
        name="Never called scaler.update()",
        message="scaler.update() is what makes the scale adapt: it halves it after a step skipped for inf or "
                "nan gradients and doubles it after growth_interval good steps, and it ends the step: without it "
                "the next scaler.step() raises a RuntimeError (\"step() has already been called since the last "
                "update()\"). Call scaler.update() after scaler.step(optimizer), once per step.",
        quiz=f"{QUIZ}#skipped-steps",
    ),
    Mistake(
        id=STEPPED_ON_INF, function="amp_step", wrong=stepped_on_inf,
        name="Stepped with optimizer.step() on gradients that overflowed",
        message="When the scaled gradients overflow, some are inf or nan, and optimizer.step() writes them into "
                "the weights, which are then lost for good. scaler.step(optimizer) checks for inf and nan first "
                "and skips the step when it finds any; call it instead of optimizer.step().",
        quiz=f"{QUIZ}#skipped-steps",
    ),
    Mistake(
        id=UNSCALED_BACKWARD, function="amp_step", wrong=unscaled_backward,
        name="Called backward() on the unscaled loss",
        message="scaler.step() divides every gradient by the scale S before stepping, because it expects "
                "scaler.scale(loss).backward() to have multiplied them by S. A scaler that never scaled anything "
                "has no S yet and refuses (AssertionError: \"Attempted step but _scale is None\"); one that "
                "scaled before gets gradients S times too small from loss.backward(), and the model barely "
                "moves. Backward the scaled loss: scaler.scale(loss).backward().",
        quiz=f"{QUIZ}#unscale-before-clipping",
    ),
    Mistake(
        id=NO_AUTOCAST, function="amp_step", wrong=no_autocast,
        name="Ran the forward pass without autocast",
        message="Without torch.autocast the forward pass runs in float32: a scaler alone makes nothing faster "
                "or smaller. Run the forward pass and the loss inside `with torch.autocast(device_type="
                "x.device.type, dtype=...)`: bfloat16 on the CPU, float16 on CUDA.",
        quiz=f"{QUIZ}#what-autocast-does",
    ),
    Mistake(
        id=RETURNED_SCALED, function="amp_step", wrong=returned_scaled,
        name="Returned the scaled loss",
        message="scaler.scale(loss) is the loss times the scale S, a number for backward() only: its size says "
                "nothing about the model and changes whenever the scale does. Return loss.item() of the loss "
                "itself.",
        quiz=f"{QUIZ}#what-autocast-does",
    ),
]

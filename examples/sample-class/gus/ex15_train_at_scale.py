# my work on ex15_train_at_scale.py, version 4
"""Exercise 15: the training step at scale: gradient accumulation and mixed precision.

Two tricks let a model train on batches larger than memory allows, and faster.

Gradient accumulation. A batch too big for memory is split into micro-batches; each runs
forward and backward on its own, and `backward()` adds its gradient to `.grad`. One
optimizer step follows the last of them. For a loss that is a mean over samples, the big
batch's loss is the mean of the micro-batches' losses (when they are of equal size), so
each micro-batch's loss is divided by the number of micro-batches before its `backward()`.

Worked example: a model `w * x` with w = 1.0 sees x = [1, 2, 3, 4] with targets 2x. The
squared errors are [1, 4, 9, 16]: the big batch's mean loss is 7.5, its gradient dL/dw is
-15.0. Split into [1, 2] and [3, 4], the micro-batch losses are 2.5 and 12.5 with gradients
-5 and -25; each divided by 2 before backward(), .grad ends at -15.0, exactly the big
batch's. Forget the division and .grad holds -30.0: with SGD at lr 0.01, w moves to 1.3
instead of 1.15, a step twice too long. The rest follows from "backward() adds": zero the
gradients once, before the first micro-batch (zeroing inside the loop keeps only the last
micro-batch's gradient), and step once, after the last (a step per micro-batch is just
small-batch training).

Mixed precision. Under `torch.autocast`, layers such as Linear run in a 16-bit type (faster
on hardware built for it, and half the memory), while losses such as MSE and cross-entropy
stay in float32, and the parameters too. float16 (CUDA's choice) holds
numbers only up to 65504 and rounds a gradient of 1e-8 to 0.0; multiplied by 65536 first,
it becomes 0.000655, which float16 holds. That is what a gradient scaler does:

  1. `scaler.scale(loss).backward()`: the loss times the scale S, so every gradient is S
     times too big, but not lost.
  2. `scaler.unscale_(optimizer)` divides the gradients by S again; needed before anything
     reads their size, such as `torch.nn.utils.clip_grad_norm_`. Clip the scaled gradients
     instead and the clipping sees a norm S times too large: gradients (3, 4) scaled by
     1024 have norm 5120, so clipping to max_norm 1 and then unscaling leaves (0.000586,
     0.000781) instead of (0.6, 0.8).
  3. `scaler.step(optimizer)` unscales (unless you did), and skips the step when any
     gradient is inf or nan: a scale too large overflowed, and stepping would ruin every
     weight.
  4. `scaler.update()` halves S after a skipped step and doubles it after a run of good
     ones. Forget it and the next step refuses to run (a RuntimeError: "step() has
     already been called since the last update()").

Only the forward pass and the loss belong inside `with torch.autocast(...)`: backward()
runs each operation's gradient in the type its forward operation used anyway. On the CPU,
autocast uses bfloat16, which has float32's range (up to about 3.4e38), so its gradients
rarely overflow; the scaler works there the same way.

Run `lossgrade check ex15` to test your work, `lossgrade hint ex15` when stuck.
"""
from typing import Callable

import torch
from torch import nn


def accumulated_step(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    micro_batches: list[tuple[torch.Tensor, torch.Tensor]],
) -> float:
    """One optimizer step from the gradients of several micro-batches.

    Args:
        model: the network; its parameters are the ones `optimizer` updates.
        loss_fn: called as loss_fn(model(x), y); returns the mean loss of that micro-batch.
        optimizer: any torch.optim optimizer over the model's parameters.
        micro_batches: a list of (x, y) pairs of equal size, the parts of one batch.

    Returns:
        The mean of the micro-batches' losses (each as loss_fn returned it, before any
        division), measured before the update, as a Python float: the whole batch's loss.
    """
    # TODO: zero the gradients once; for each micro-batch, backward() of its loss divided by
    # the number of micro-batches; step once; return the mean loss as a float.
    raise NotImplementedError("ex15: accumulated_step is not written yet")


def amp_step(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    x: torch.Tensor,
    y: torch.Tensor,
    max_norm: float | None = None,
) -> float:
    """One training step in mixed precision, with a gradient scaler.

    The forward pass and the loss run under `torch.autocast` for x's device type
    (`x.device.type`): bfloat16 on the CPU, float16 on CUDA. With `max_norm`, the
    gradients' total norm is clipped to it (`torch.nn.utils.clip_grad_norm_`), after they
    are unscaled. A step whose gradients hold inf or nan is skipped.

    Args:
        model, loss_fn, optimizer: as in accumulated_step (the model in float32).
        scaler: a `torch.amp.GradScaler` for x's device type.
        x, y: one batch.
        max_norm: the largest total norm of the gradients, or None for no clipping.

    Returns:
        The loss of the batch before the update, unscaled, as a Python float.
    """
    # TODO: zero the gradients; forward and loss under autocast; backward of the scaled
    # loss; unscale_ and clip when max_norm is given; scaler.step; scaler.update.
    raise NotImplementedError("ex15: amp_step is not written yet")

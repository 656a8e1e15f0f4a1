# my work on ex07_train_step.py, version 6
"""Exercise 07: one training step, and an evaluation that changes nothing.

Every training loop repeats the same three moves: measure, diagnose, update.

  1. Measure: run the model forward on a batch and compute the loss, one number that says
     how wrong the predictions are.
  2. Diagnose: `loss.backward()` fills each parameter's `.grad` with how much, and in which
     direction, that parameter pushed the loss up.
  3. Update: `optimizer.step()` moves every parameter using its gradient (plain SGD moves
     it by the learning rate times the gradient, against it; Adam rescales each step).

One more line comes before all three: `optimizer.zero_grad()`. Gradients accumulate, that
is, `backward()` adds to whatever `.grad` already holds; without zeroing, each step would
follow the sum of every gradient so far. The order matters: zero, forward, loss, backward,
step. Stepping before backward, right after zeroing, finds no gradient at all (since torch
2.0 zero_grad() sets each .grad to None), so nothing ever moves; zeroing between backward
and step throws the diagnosis away in the same way.

Worked example: a model predicts 0.3 where the target is 1.0, so the squared error is 0.49.
Its gradient with respect to the prediction is negative (-1.4), so a step against it
increases the prediction; after a small step the prediction is, say, 0.6 and the loss 0.16.
`train_step` returns the 0.49: the loss that the step was computed from, measured before the
update.

Measuring is different from training. To see how the model does on held-out data, you want
the loss and nothing else: no parameter may move, no gradient may pile up, and layers such
as dropout and batch norm must behave as they do at prediction time (eval mode). Compare
the two: a training loss of 0.1 with a held-out loss of 1.5 means the model memorised its
training data.

Run `lossgrade check ex07` to test your work, `lossgrade hint ex07` when stuck.
"""
from typing import Callable

import torch
from torch import nn


def train_step(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
) -> float:
    """One step of training on the batch (x, y).

    Args:
        model: the network; its parameters are the ones `optimizer` updates.
        loss_fn: called as loss_fn(model(x), y); returns a 0-d tensor.
        optimizer: any torch.optim optimizer over the model's parameters.
        x: a batch of inputs.
        y: the matching targets.

    Returns:
        The loss of this batch before the update, as a Python float.
    """
    # TODO: zero the gradients, measure, diagnose, update; return the loss as a float.
    raise NotImplementedError("ex07: train_step is not written yet")


def evaluate(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
) -> float:
    """The loss of `model` on (x, y), changing nothing.

    Runs in eval mode under `torch.no_grad()`: no parameter changes, no gradient is
    computed or accumulated. Afterwards the model is back in the mode it was in (train or
    eval), even if the forward pass raised.

    Returns:
        The loss as a Python float.
    """
    # TODO: remember the mode, switch to eval, compute the loss without gradients,
    # restore the mode.
    raise NotImplementedError("ex07: evaluate is not written yet")

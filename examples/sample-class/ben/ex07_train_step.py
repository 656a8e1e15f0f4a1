# my work on ex07_train_step.py, version 3
"""Reference solution for exercise 07: one training step, and an evaluation that changes nothing."""
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
    """Measure, diagnose, update: one optimisation step; returns the loss before the update."""
    optimizer.zero_grad()  # forget the previous step's gradients
    loss = loss_fn(model(x), y)  # measure
    optimizer.step()
    loss.backward()
    return loss.item()


def evaluate(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
) -> float:
    """The loss on (x, y) in eval mode, without gradients; the model's mode is restored."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return loss_fn(model(x), y).item()
    finally:
        model.train(was_training)

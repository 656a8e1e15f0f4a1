# mistake: ex07.evaluate-left-grad-off
# why: evaluate turns gradients off globally and never back on
from typing import Callable

import torch
from torch import nn


def train_step(model, loss_fn, optimizer, x, y):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def evaluate(model, loss_fn, x, y):
    was = model.training
    model.eval()
    torch.set_grad_enabled(False)
    try:
        return loss_fn(model(x), y).item()
    finally:
        model.train(was)



# mistake: ex07.no-zero-grad
# why: never zeroes the gradients: they accumulate over steps
from typing import Callable

import torch
from torch import nn


def train_step(model, loss_fn, optimizer, x, y):
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def evaluate(model, loss_fn, x, y):
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            return float(loss_fn(model(x), y))
    finally:
        model.train(was)



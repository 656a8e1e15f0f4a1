# why: zeroes the gradients after the step, ready for the next one
from typing import Callable

import torch
from torch import nn


def train_step(model, loss_fn, optimizer, x, y):
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return float(loss)


def evaluate(model, loss_fn, x, y):
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            return float(loss_fn(model(x), y))
    finally:
        model.train(was)



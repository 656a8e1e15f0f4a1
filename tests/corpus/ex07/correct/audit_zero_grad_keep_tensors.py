# why: zero_grad(set_to_none=False); evaluate via set_grad_enabled(False) as a context
from typing import Callable

import torch
from torch import nn


def train_step(model, loss_fn, optimizer, x, y):
    optimizer.zero_grad(set_to_none=False)
    prediction = model(x)
    loss = loss_fn(prediction, y)
    loss.backward()
    optimizer.step()
    return float(loss.item())


def evaluate(model, loss_fn, x, y):
    previous = model.training
    model.eval()
    try:
        with torch.set_grad_enabled(False):
            value = loss_fn(model(x), y)
    finally:
        model.train(previous)
    return float(value)



# why: model.zero_grad(); evaluate under torch.inference_mode (stricter than no_grad)
from typing import Callable

import torch
from torch import nn


def train_step(model, loss_fn, optimizer, x, y):
    model.zero_grad()
    out = model(x)
    loss = loss_fn(out, y)
    value = loss.item()
    loss.backward()
    optimizer.step()
    return value


def evaluate(model, loss_fn, x, y):
    mode = model.training
    model.train(False)
    try:
        with torch.inference_mode():
            loss = loss_fn(model(x), y)
        return loss.item()
    finally:
        model.train(mode)



# why: zeroes between the forward pass and backward, still before backward
from typing import Callable

import torch
from torch import nn


def train_step(model, loss_fn, optimizer, x, y):
    predictions = model(x)
    loss = loss_fn(predictions, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    before = loss.item()
    return before


def evaluate(model, loss_fn, x, y):
    state = model.training
    try:
        model.eval()
        with torch.no_grad():
            out = model(x)
            l = loss_fn(out, y)
    finally:
        model.train(state)
    return float(l)



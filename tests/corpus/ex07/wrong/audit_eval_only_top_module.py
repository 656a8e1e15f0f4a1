# mistake: ex07.evaluate-in-train-mode
# why: evaluate sets model.training = False on the top module only: children stay in train mode
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
    model.training = False
    try:
        with torch.no_grad():
            return loss_fn(model(x), y).item()
    finally:
        model.training = was



# mistake: ex07.evaluate-mode-lost-on-error
# why: evaluate restores the mode, but not when the forward pass raises
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
    with torch.no_grad():
        loss = loss_fn(model(x), y).item()
    model.train(was)
    return loss



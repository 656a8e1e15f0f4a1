# mistake: ex07.evaluate-mode-not-restored
# why: reads model.training after calling eval(), so always restores eval
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
    model.eval()
    was = model.training
    try:
        with torch.no_grad():
            return loss_fn(model(x), y).item()
    finally:
        model.train(was)



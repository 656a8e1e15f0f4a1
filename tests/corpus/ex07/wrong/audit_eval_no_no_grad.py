# mistake: ex07.evaluate-without-no-grad
# why: evaluate builds the autograd graph: no torch.no_grad()
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
    try:
        return loss_fn(model(x), y).item()
    finally:
        model.train(was)



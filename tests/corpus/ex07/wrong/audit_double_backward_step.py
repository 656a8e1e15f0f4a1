# mistake: ex07.backward-twice
# why: calls backward twice (retain_graph) so each step follows twice the gradient
from typing import Callable

import torch
from torch import nn


def train_step(model, loss_fn, optimizer, x, y):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward(retain_graph=True)
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



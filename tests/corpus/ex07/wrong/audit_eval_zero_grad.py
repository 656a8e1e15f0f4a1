# mistake: ex07.evaluate-zeroed-grads
# why: evaluate calls model.zero_grad(), wiping gradients the caller had accumulated
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
    model.zero_grad()
    try:
        with torch.no_grad():
            return loss_fn(model(x), y).item()
    finally:
        model.train(was)



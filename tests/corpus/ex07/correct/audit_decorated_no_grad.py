# why: evaluate's work in a helper decorated with @torch.no_grad()
from typing import Callable

import torch
from torch import nn


def train_step(model, loss_fn, optimizer, x, y):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def _loss(model, loss_fn, x, y):
    return loss_fn(model(x), y).item()


def evaluate(model, loss_fn, x, y):
    training = model.training
    model.eval()
    try:
        return _loss(model, loss_fn, x, y)
    finally:
        if training:
            model.train()



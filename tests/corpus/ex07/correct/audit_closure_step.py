# why: uses optimizer.step(closure), which works for every optimizer, LBFGS too
from typing import Callable

import torch
from torch import nn


def train_step(model, loss_fn, optimizer, x, y):
    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss
    loss = optimizer.step(closure)
    return loss.detach().item()


def evaluate(model, loss_fn, x, y):
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            return float(loss_fn(model(x), y))
    finally:
        model.train(was)



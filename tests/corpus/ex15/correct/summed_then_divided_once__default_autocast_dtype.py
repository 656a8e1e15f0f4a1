"""Exercise 15: gradient accumulation and mixed precision."""
from typing import Callable

import torch
from torch import nn

def accumulated_step(model, loss_fn, optimizer, micro_batches):
    optimizer.zero_grad()
    losses = [loss_fn(model(x), y) for x, y in micro_batches]
    mean = sum(losses) / len(losses)
    mean.backward()
    optimizer.step()
    return mean.item()


def amp_step(model, loss_fn, optimizer, scaler, x, y, max_norm=None):
    optimizer.zero_grad()
    with torch.autocast(x.device.type):
        prediction = model(x)
        loss = loss_fn(prediction, y)
    scaler.scale(loss).backward()
    if max_norm is not None:
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
    scaler.step(optimizer)
    scaler.update()
    return float(loss)

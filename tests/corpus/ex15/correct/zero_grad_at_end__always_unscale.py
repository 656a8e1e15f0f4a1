"""Exercise 15: gradient accumulation and mixed precision."""
from typing import Callable

import torch
from torch import nn

def accumulated_step(model, loss_fn, optimizer, micro_batches):
    n = len(micro_batches)
    running = 0.0
    for x, y in micro_batches:
        loss = loss_fn(model(x), y) / n
        loss.backward()
        running += loss.item()
    optimizer.step()
    optimizer.zero_grad()
    return running


def amp_step(model, loss_fn, optimizer, scaler, x, y, max_norm=None):
    device = x.device.type
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device, dtype=torch.float16 if device == "cuda" else torch.bfloat16):
        loss = loss_fn(model(x), y)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    if max_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()

"""Exercise 15: gradient accumulation and mixed precision."""
from typing import Callable

import torch
from torch import nn

def accumulated_step(model, loss_fn, optimizer, micro_batches):
    for p in model.parameters():
        p.grad = None
    i, acc = 0, 0.0
    while i < len(micro_batches):
        x, y = micro_batches[i]
        loss = loss_fn(model(x), y)
        torch.autograd.backward(loss / len(micro_batches))
        acc += loss.item()
        i += 1
    optimizer.step()
    return acc / len(micro_batches)


def amp_step(model, loss_fn, optimizer, scaler, x, y, max_norm=None):
    dtype = {"cuda": torch.float16}.get(x.device.type, torch.bfloat16)
    optimizer.zero_grad()
    with torch.autocast(device_type=x.device.type, dtype=dtype):
        loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
    if max_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()

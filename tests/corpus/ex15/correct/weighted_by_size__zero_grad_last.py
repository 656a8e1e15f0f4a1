"""Exercise 15: gradient accumulation and mixed precision."""
from typing import Callable

import torch
from torch import nn

def accumulated_step(model, loss_fn, optimizer, micro_batches):
    optimizer.zero_grad()
    total_samples = sum(x.shape[0] for x, _ in micro_batches)
    value = 0.0
    for x, y in micro_batches:
        share = x.shape[0] / total_samples
        loss = loss_fn(model(x), y)
        (loss * share).backward()
        value += loss.item() * share
    optimizer.step()
    return value


def amp_step(model, loss_fn, optimizer, scaler, x, y, max_norm=None):
    for p in model.parameters():
        p.grad = None
    kind = x.device.type
    with torch.autocast(kind, dtype=torch.float16 if kind == "cuda" else torch.bfloat16):
        loss = loss_fn(model(x), y)
    value = loss.item()
    scaler.scale(loss).backward()
    if max_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=False)
    return value

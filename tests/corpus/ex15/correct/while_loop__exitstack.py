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


import contextlib


def amp_step(model, loss_fn, optimizer, scaler, x, y, max_norm=None):
    optimizer.zero_grad()
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.autocast(x.device.type, dtype=torch.float16 if x.device.type == "cuda" else torch.bfloat16))
        loss = loss_fn(model(x), y)
    scaler.scale(loss).backward()
    if max_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    skipped_or_not = scaler.step(optimizer)
    scaler.update()
    del skipped_or_not
    return loss.item()

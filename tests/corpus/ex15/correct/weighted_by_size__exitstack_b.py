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

"""Exercise 15: gradient accumulation and mixed precision."""
from typing import Callable

import torch
from torch import nn

def accumulated_step(model, loss_fn, optimizer, micro_batches):
    model.zero_grad()
    kept = []
    for x, y in micro_batches:
        loss = loss_fn(model(x), y)
        kept.append(loss.detach())
        (loss * (1.0 / len(micro_batches))).backward()
    optimizer.step()
    return torch.stack(kept).mean().item()


def amp_step(model, loss_fn, optimizer, scaler, x, y, max_norm=None):
    half = torch.float16 if x.device.type == "cuda" else torch.bfloat16
    optimizer.zero_grad()
    with torch.autocast(device_type=x.device.type, dtype=half):
        output = model(x)
    loss = loss_fn(output, y)
    scaler.scale(loss).backward()
    if max_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()

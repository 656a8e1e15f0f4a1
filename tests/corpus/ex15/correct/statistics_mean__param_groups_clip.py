"""Exercise 15: gradient accumulation and mixed precision."""
from typing import Callable

import torch
from torch import nn

import statistics


def accumulated_step(model, loss_fn, optimizer, micro_batches):
    optimizer.zero_grad()
    seen = []
    count = len(micro_batches)
    for batch in micro_batches:
        x, y = batch
        loss = loss_fn(model(x), y)
        seen.append(loss.item())
        (loss / count).backward()
    optimizer.step()
    return statistics.fmean(seen)


def amp_step(model, loss_fn, optimizer, scaler, x, y, max_norm=None):
    optimizer.zero_grad()
    context = torch.autocast(device_type=x.device.type, dtype=torch.bfloat16 if x.device.type == "cpu" else torch.float16)
    with context:
        loss = loss_fn(model(x), y)
    scaled = scaler.scale(loss)
    scaled.backward()
    if max_norm is not None:
        scaler.unscale_(optimizer)
        params = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, max_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.detach().float().item()

"""Exercise 15: gradient accumulation and mixed precision."""
from typing import Callable

import torch
from torch import nn

def accumulated_step(model, loss_fn, optimizer, micro_batches):
    optimizer.zero_grad(set_to_none=False)
    items = []
    for i, (x, y) in enumerate(micro_batches):
        out = model(x)
        loss = loss_fn(out, y)
        loss.div(len(micro_batches)).backward()
        items.append(float(loss))
    optimizer.step()
    return float(sum(items) / len(items))


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

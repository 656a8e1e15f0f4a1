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
    dtype = torch.float16 if x.is_cuda else torch.bfloat16
    optimizer.zero_grad()
    with torch.autocast(device_type=x.device.type, dtype=dtype):
        loss = loss_fn(model(x), y)
    scaler.scale(loss).backward()
    if max_norm is not None:
        scaler.unscale_(optimizer)
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        factor = torch.clamp(max_norm / (total + 1e-6), max=1.0)
        for g in grads:
            g.mul_(factor)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()

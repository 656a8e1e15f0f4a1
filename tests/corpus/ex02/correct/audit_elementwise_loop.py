# why: Python loops over the flattened elements (empty handled), stacked back into tensors
import torch


def mean_error(input, target):
    if input.shape != target.shape:
        raise ValueError(f"shape {tuple(input.shape)} vs {tuple(target.shape)}")
    a, b = input.reshape(-1), target.reshape(-1)
    if a.numel() == 0:
        return (a - b).mean()
    return torch.stack([a[i] - b[i] for i in range(a.numel())]).mean()

def _loop(input, target, fn):
    d = (input - target)
    flat = d.reshape(-1)
    if flat.numel() == 0:
        return fn(flat)
    return torch.stack([fn(x) for x in flat]).reshape(d.shape)

def _red(x, reduction):
    if reduction == "none":
        return x
    if reduction == "sum":
        return x.sum()
    if reduction == "mean":
        return x.mean()
    raise ValueError("reduction must be mean, sum or none")

def l1_loss(input, target, reduction="mean"):
    _red(torch.zeros(1), reduction)
    return _red(_loop(input, target, lambda x: x.abs()), reduction)

def huber_loss(input, target, reduction="mean", delta=1.0):
    _red(torch.zeros(1), reduction)
    if delta <= 0:
        raise ValueError("delta must be > 0")
    def one(x):
        a = x.abs()
        if a.numel() == 1 and bool(a < delta):
            return 0.5 * a * a
        if a.numel() == 1:
            return delta * (a - 0.5 * delta)
        return torch.where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta))
    return _red(_loop(input, target, one), reduction)

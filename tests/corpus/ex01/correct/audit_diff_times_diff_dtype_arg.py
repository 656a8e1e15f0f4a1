# why: (target - input) order, squares by multiplication, reduction chosen by dict lookup after validation
import torch


def mse_loss(input, target, reduction="mean"):
    ops = {"mean": lambda x: x.mean(), "sum": lambda x: x.sum(), "none": lambda x: x}
    try:
        op = ops[reduction]
    except KeyError:
        raise ValueError(f"Unsupported reduction '{reduction}'") from None
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"Got input {tuple(input.shape)} and target {tuple(target.shape)}")
    e = target - input
    return op(e * e)

# why: loops over the flattened elements, stacks the squared errors, reduces by hand
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"input has shape {tuple(input.shape)} but target has shape {tuple(target.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    a = input.reshape(-1)
    b = target.reshape(-1)
    if a.numel() == 0:
        sq = (a - b) * (a - b)
    else:
        sq = torch.stack([(a[i] - b[i]) ** 2 for i in range(a.numel())])
    if reduction == "none":
        return sq.reshape(input.shape)
    total = sq.sum()
    if reduction == "sum":
        return total
    return total / sq.numel()

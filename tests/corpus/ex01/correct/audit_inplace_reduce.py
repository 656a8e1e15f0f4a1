# why: in-place ops on fresh tensors only: the reduced sum is divided in place
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError("shapes differ: input %s, target %s" % (tuple(input.shape), tuple(target.shape)))
    sq = (input - target) ** 2
    if reduction == "none":
        return sq
    elif reduction == "sum":
        return sq.sum()
    elif reduction == "mean":
        total = sq.sum()
        total /= sq.numel()
        return total
    raise ValueError("reduction must be one of mean/sum/none")

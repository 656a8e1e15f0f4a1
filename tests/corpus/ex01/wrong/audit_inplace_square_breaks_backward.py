# mistake: ex01.inplace-breaks-backward
# why: squares the error in place (d.mul_(d)), which destroys what autograd needs: backward fails
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError("shapes differ: input %s, target %s" % (tuple(input.shape), tuple(target.shape)))
    d = input - target
    d.mul_(d)
    if reduction == "none":
        return d
    elif reduction == "sum":
        return d.sum()
    elif reduction == "mean":
        return d.mean()
    raise ValueError("reduction must be one of mean/sum/none")

# mistake: ex01.inputs-modified
# why: subtracts and squares in place on the learner's input tensor
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    d = input.sub_(target) if not input.requires_grad else input - target
    sq = d.pow(2)
    if reduction == "none":
        return sq
    return sq.sum() if reduction == "sum" else sq.mean()

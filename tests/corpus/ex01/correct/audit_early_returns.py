# why: early returns, mean via torch.mean with dim=None over a view, shapes named as lists
import torch


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError("cannot compare predictions of shape " + str(list(input.shape)) +
                         " with targets of shape " + str(list(target.shape)))
    err = (input - target) ** 2
    if reduction == "none":
        return err
    if reduction == "sum":
        return torch.sum(err)
    if reduction == "mean":
        return torch.mean(err)
    raise ValueError(f"reduction {reduction} unknown")

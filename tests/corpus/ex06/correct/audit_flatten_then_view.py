# why: mse and bce flatten to 1-D and view back; CE treats (C,) as one row of a batch
import torch


def mse_grad(input, target):
    if input.shape != target.shape:
        raise ValueError(f"input shape {tuple(input.shape)} does not match target shape {tuple(target.shape)}")
    a, b = input.flatten(), target.flatten()
    return ((a - b) * (2 / a.numel())).view_as(input)


def cross_entropy_grad(logits, target):
    x2 = logits.view(-1, logits.shape[-1])
    t1 = target.view(-1)
    if (t1 < 0).any() or (t1 >= x2.shape[1]).any():
        v = t1[(t1 < 0) | (t1 >= x2.shape[1])][0]
        raise IndexError(f"Target {v.item()} is out of bounds.")
    mx, _ = x2.max(dim=1, keepdim=True)
    ex = torch.exp(x2 - mx)
    soft = ex / ex.sum(dim=1, keepdim=True)
    soft = soft.clone()
    soft[range(x2.shape[0]), t1.tolist()] -= 1
    return (soft / x2.shape[0]).view_as(logits)


def bce_with_logits_grad(input, target):
    if input.shape != target.shape:
        raise ValueError(f"input shape {tuple(input.shape)} does not match target shape {tuple(target.shape)}")
    flat = input.flatten()
    return ((1 / (1 + torch.exp(-flat))) - target.flatten()).div(flat.numel()).view_as(input)

# why: Huber as 0.5 d^2 - 0.5 relu(|d| - delta)^2, an exact identity
import torch


def mean_error(input, target):
    if input.shape != target.shape:
        raise ValueError(f"shapes {tuple(input.shape)} and {tuple(target.shape)} differ")
    return (input - target).mean()


def l1_loss(input, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    a = (input - target).abs()
    return a if reduction == "none" else (a.sum() if reduction == "sum" else a.mean())


def huber_loss(input, target, reduction="mean", delta=1.0):
    if delta <= 0.0:
        raise ValueError("Huber delta must be > 0")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("unknown reduction " + repr(reduction))
    d = input - target
    over = torch.relu(d.abs() - delta)
    out = 0.5 * d ** 2 - 0.5 * over ** 2
    return {"none": lambda: out, "sum": out.sum, "mean": out.mean}[reduction]()

# redteam: exercise=ex01 score=0 timeout=5 mentions=more than the
"""Returns a 68 MB tensor, to make the grader read and load more than any answer needs."""
import torch


def mse_loss(input, target, reduction="mean"):
    return torch.ones(17_000_000)

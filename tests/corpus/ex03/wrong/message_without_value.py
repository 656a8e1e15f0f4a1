# mistake: ex03.target-message-incomplete
"""ex03: a learner's submission (verdict corpus)."""
import torch


def log_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    m = logits.amax(dim=dim, keepdim=True)
    shifted = logits - m
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    single = logits.dim() == 1
    if single:
        logits, target = logits.unsqueeze(0), target.reshape(1)
    if target.shape[0] != logits.shape[0]:
        raise ValueError(f"{logits.shape[0]} rows of logits but {target.shape[0]} targets")
    C = logits.shape[1]
    bad = (target < 0) | (target >= C)
    if bad.any():
        raise IndexError("target out of range")
    lp = log_softmax(logits, dim=1)
    losses = -lp.gather(1, target.unsqueeze(1)).squeeze(1)
    if single:
        losses = losses[0]
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses

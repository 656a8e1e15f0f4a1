# why: computes in float64 and casts the result back to the input's dtype
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if reduction not in {"mean", "sum", "none"}:
        raise ValueError("reduction must be mean, sum or none, got " + str(reduction))
    if input.size() != target.size():
        raise ValueError(f"shape mismatch: {input.size()} vs {target.size()}")
    d = input.double() - target.double()
    sq = d * d
    if reduction == "mean":
        out = sq.mean()
    elif reduction == "sum":
        out = sq.sum()
    else:
        out = sq
    return out.to(input.dtype)

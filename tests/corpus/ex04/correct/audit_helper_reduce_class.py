# why: a shared validator class for both functions; mean as sum/numel
import torch


class _Loss:
    REDUCTIONS = ("mean", "sum", "none")

    def __init__(self, input, target, reduction):
        if reduction not in self.REDUCTIONS:
            raise ValueError(f"reduction {reduction!r} is not one of {self.REDUCTIONS}")
        if input.shape != target.shape:
            raise ValueError(f"input shape {tuple(input.shape)} and target shape {tuple(target.shape)} differ")
        self.reduction = reduction

    def reduce(self, out):
        if self.reduction == "none":
            return out
        s = out.sum()
        return s if self.reduction == "sum" else s / out.numel()

def binary_cross_entropy(input, target, reduction="mean"):
    job = _Loss(input, target, reduction)
    if torch.any(input < 0) or torch.any(input > 1):
        raise ValueError("inputs must be in [0, 1]")
    return job.reduce(-(target * input.log().clamp_min(-100) + (1 - target) * (1 - input).log().clamp_min(-100)))

def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None):
    job = _Loss(input, target, reduction)
    z = torch.zeros_like(input)
    lsp = -torch.logaddexp(z, -input)
    lsn = -torch.logaddexp(z, input)
    if pos_weight is not None:
        lsp = lsp * pos_weight
    return job.reduce(-(target * lsp + (1 - target) * lsn))

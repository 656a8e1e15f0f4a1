# why: loops over the samples one by one; movedim for any dim in log_softmax
import torch


def log_softmax(logits, dim=-1):
    x = logits.movedim(dim, -1)
    m = x.max(-1, keepdim=True).values
    out = x - m - (x - m).exp().sum(-1, keepdim=True).log()
    return out.movedim(-1, dim)

def cross_entropy(logits, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("reduction: mean, sum or none")
    one = logits.ndim == 1
    rows = [logits] if one else list(logits)
    ts = [target] if one else list(target)
    if not one and target.ndim != 1 or len(rows) != len(ts):
        raise ValueError(f"logits {tuple(logits.shape)} and target {tuple(target.shape)}: batch sizes differ")
    losses = []
    for row, t in zip(rows, ts):
        k = int(t)
        if k < 0 or k >= row.shape[0]:
            raise IndexError(f"Target {k} is out of bounds.")
        losses.append(-log_softmax(row, 0)[k])
    if not losses:
        per = logits.new_zeros((0,))
    else:
        per = torch.stack(losses)
    if reduction == "none":
        return per[0] if one else per
    if reduction == "sum":
        return per.sum()
    return per.sum() / per.numel()

# why: computes first, validates the target range with torch.where lookups before picking
import torch


def log_softmax(logits, dim=-1):
    m = logits.amax(dim=dim, keepdim=True)
    z = logits - m
    return z - z.exp().sum(dim=dim, keepdim=True).log()


def cross_entropy(logits, target, reduction="mean"):
    lp = log_softmax(logits, dim=-1)
    if logits.dim() == 1:
        lp, target = lp.unsqueeze(0), target.unsqueeze(0)
    if lp.shape[0] != target.shape[0]:
        raise ValueError("target batch size " + str(target.shape[0]) + " does not match logits batch size " + str(lp.shape[0]))
    C = lp.shape[-1]
    out_of_range = torch.where((target < 0) | (target >= C))[0]
    if len(out_of_range) > 0:
        raise IndexError(f"Target {target[out_of_range[0]].item()} is out of bounds.")
    nll = -lp.gather(-1, target.long().unsqueeze(-1)).squeeze(-1)
    if reduction == "none":
        return nll.squeeze(0) if logits.dim() == 1 else nll
    if reduction == "sum":
        return nll.sum()
    if reduction == "mean":
        return nll.mean()
    raise ValueError(f"reduction={reduction}")

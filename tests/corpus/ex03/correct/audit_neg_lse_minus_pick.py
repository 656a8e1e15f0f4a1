# why: loss as logsumexp(row) - row[t], without materialising log_softmax
import torch


def log_softmax(logits, dim=-1):
    m = logits.amax(dim=dim, keepdim=True)
    z = logits - m
    return z - z.exp().sum(dim=dim, keepdim=True).log()


def cross_entropy(logits, target, reduction="mean"):
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"reduction {reduction!r} is not mean, sum or none")
    x = torch.atleast_2d(logits)
    t = target.reshape(-1)
    if x.shape[0] != t.shape[0]:
        raise ValueError(f"logits batch {x.shape[0]} != target batch {t.shape[0]}")
    C = x.shape[1]
    for v in t.tolist():
        if v >= C or v < 0:
            raise IndexError(f"Target {v} is out of bounds.")
    m = x.max(dim=1, keepdim=True).values
    lse = (m + (x - m).exp().sum(dim=1, keepdim=True).log()).squeeze(1)
    per = lse - x.gather(1, t[:, None]).squeeze(1)
    if reduction == "none":
        return per if logits.dim() == 2 else per.squeeze(0)
    return per.sum() if reduction == "sum" else per.mean()

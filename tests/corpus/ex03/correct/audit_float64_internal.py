# why: log_softmax in float64 then cast back; CE with a one-hot mask instead of gather
import torch


def log_softmax(logits, dim=-1):
    x = logits.double()
    x = x - x.max(dim, keepdim=True)[0]
    return (x - x.exp().sum(dim, keepdim=True).log()).to(logits.dtype)

def cross_entropy(logits, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction: {reduction}")
    x = logits if logits.dim() == 2 else logits[None]
    t = target.reshape(-1) if logits.dim() == 1 else target
    if x.shape[0] != t.shape[0]:
        raise ValueError(f"{x.shape[0]} samples but {t.shape[0]} targets")
    C = x.shape[1]
    for i, v in enumerate(t.tolist()):
        if not 0 <= v < C:
            raise IndexError("Target %d is out of bounds." % v)
    mask = (t[:, None] == torch.arange(C, device=x.device)[None, :])
    lp = log_softmax(x, dim=1)
    per = -(lp * mask).sum(dim=1)
    if logits.dim() == 1 and reduction == "none":
        return per.reshape(())
    return {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]

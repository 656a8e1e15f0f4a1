# why: log-probabilities picked with an einsum against one-hot rows; helper class for reductions
import torch


def log_softmax(logits, dim=-1):
    m = logits.amax(dim=dim, keepdim=True)
    z = logits - m
    return z - z.exp().sum(dim=dim, keepdim=True).log()


class _Reduce:
    OK = ("mean", "sum", "none")

    def __init__(self, how):
        if how not in self.OK:
            raise ValueError(f"reduction must be one of {self.OK}")
        self.how = how

    def __call__(self, x):
        return x if self.how == "none" else (x.sum() if self.how == "sum" else x.mean())

def cross_entropy(logits, target, reduction="mean"):
    red = _Reduce(reduction)
    batched = logits.dim() == 2
    x = logits if batched else logits.unsqueeze(0)
    t = target if batched else target.view(1)
    if t.numel() != x.size(0):
        raise ValueError(f"target has {t.numel()} entries for {x.size(0)} samples")
    C = x.size(1)
    if t.numel() and (t.min() < 0 or t.max() >= C):
        badv = t[(t < 0) | (t >= C)][0].item()
        raise IndexError(f"Target {badv} is out of bounds.")
    onehot = torch.zeros_like(x)
    onehot[torch.arange(x.size(0)), t] = 1
    per = -torch.einsum("nc,nc->n", onehot, log_softmax(x, dim=1))
    return red(per if batched else per[0])

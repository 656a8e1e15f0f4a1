# why: a hand-made two-branch stable sigmoid, softmax from log_softmax().exp()
import torch


def _check(a, b):
    if a.shape != b.shape:
        raise ValueError(f"shapes must match, got {list(a.shape)} and {list(b.shape)}")


def mse_grad(input, target):
    _check(input, target)
    return torch.mul(torch.sub(input, target), 2.0 / input.numel())


def cross_entropy_grad(logits, target):
    c = logits.size(-1)
    if torch.any(target >= c) or torch.any(target < 0):
        raise IndexError("Target %d is out of bounds." % int(target.flatten()[((target >= c) | (target < 0)).flatten()][0]))
    p = torch.log_softmax(logits, dim=-1).exp()
    onehot = torch.nn.functional.one_hot(target, c).to(logits.dtype)
    n = logits.shape[0] if logits.dim() == 2 else 1
    return (p - onehot) / n


def bce_with_logits_grad(input, target):
    _check(input, target)
    e = torch.exp(-input.abs())
    sig = torch.where(input >= 0, 1 / (1 + e), e / (1 + e))
    return (sig - target) / input.numel()

# why: builds the terms class by class in a Python loop
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"bad reduction {reduction}")
    if input.dim() == 0:
        cols = [None]
    else:
        cols = range(input.shape[-1])
    pieces = []
    for c in cols:
        x = input if c is None else input[..., c]
        y = target if c is None else target[..., c]
        if log_target:
            pieces.append(torch.exp(y) * (y - x))
        else:
            pieces.append(torch.where(y > 0, y * torch.log(torch.where(y > 0, y, torch.ones_like(y))), torch.zeros_like(y)) - y * x)
    terms = pieces[0] if input.dim() == 0 else torch.stack(pieces, dim=-1)
    if reduction == "none":
        return terms
    if reduction == "sum":
        return terms.sum()
    if reduction == "mean":
        return terms.mean()
    return terms.sum() / input.shape[0] if input.dim() else terms.sum()


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    s = torch.log_softmax(student_logits / temperature, dim=-1)
    t = torch.softmax(teacher_logits / temperature, dim=-1)
    return kl_div(s, t, reduction="batchmean") * temperature ** 2

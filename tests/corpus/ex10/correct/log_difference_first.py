# why: writes each term as p * log(p / q) through a difference of logs, and mean as sum / size
import math

import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"reduction {reduction} unknown")
    log_p = target if log_target else torch.log(target)
    p = torch.exp(target) if log_target else target
    gap = torch.where(p > 0, log_p - input, torch.zeros_like(input))
    terms = p * gap
    if reduction == "none":
        return terms
    total = terms.sum()
    if reduction == "sum":
        return total
    if reduction == "mean":
        return total / math.prod(terms.shape)
    return total / (terms.shape[0] if terms.dim() else 1)


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    s = torch.log_softmax(student_logits / temperature, dim=-1)
    t = torch.softmax(teacher_logits / temperature, dim=-1)
    return kl_div(s, t, reduction="batchmean") * temperature ** 2

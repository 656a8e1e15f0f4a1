# why: warns about reduction='mean' as torch does, and dispatches with a dict
import warnings

import torch


def kl_div(input, target, reduction="mean", log_target=False):
    reducers = {
        "none": lambda t: t,
        "sum": lambda t: t.sum(),
        "mean": lambda t: t.sum() / t.numel(),
        "batchmean": lambda t: t.sum() / t.size(0) if t.dim() > 0 else t.sum(),
    }
    if reduction not in reducers:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        warnings.warn("reduction 'mean' divides by every element; 'batchmean' is the KL divergence")
    if log_target:
        terms = target.exp() * (target - input)
    else:
        terms = torch.xlogy(target, target) - target * input
    return reducers[reduction](terms)


def distillation_loss(student_logits, teacher_logits, temperature):
    if not (temperature > 0):
        raise ValueError(f"temperature must be > 0 (got {temperature})")
    log_q = torch.nn.LogSoftmax(dim=-1)(student_logits / temperature)
    p = torch.nn.Softmax(dim=-1)(teacher_logits / temperature)
    return kl_div(log_q, p, reduction="batchmean") * temperature ** 2

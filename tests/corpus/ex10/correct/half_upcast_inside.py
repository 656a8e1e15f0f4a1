# why: half precision computed in float32 and cast back; distillation written without kl_div
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"unknown reduction: {reduction}")
    dtype = input.dtype
    low = dtype in (torch.float16, torch.bfloat16)
    x = input.float() if low else input
    y = target.float() if low else target
    terms = y.exp() * (y - x) if log_target else torch.xlogy(y, y) - y * x
    if reduction == "sum":
        terms = terms.sum()
    elif reduction == "mean":
        terms = terms.mean()
    elif reduction == "batchmean":
        terms = terms.sum() / x.shape[0] if x.dim() else terms.sum()
    return terms.to(dtype)


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    T = temperature
    log_q = torch.log_softmax(student_logits / T, dim=1)
    log_p = torch.log_softmax(teacher_logits / T, dim=1)
    p = log_p.exp()
    kl = (p * (log_p - log_q)).sum(dim=1).mean()
    return kl * T * T

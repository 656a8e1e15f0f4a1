# why: computes in float64 and converts back to the input's dtype
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in {"mean", "batchmean", "sum", "none"}:
        raise ValueError("reduction must be mean, batchmean, sum or none, not " + repr(reduction))
    x, y = input.double(), target.double()
    if log_target:
        terms = y.exp() * (y - x)
    else:
        terms = torch.xlogy(y, y) - y * x
    if reduction == "sum":
        out = terms.sum()
    elif reduction == "mean":
        out = terms.mean()
    elif reduction == "batchmean":
        out = terms.sum() / input.size(0) if input.ndim else terms.sum()
    else:
        out = terms
    return out.to(input.dtype)


def distillation_loss(student_logits, teacher_logits, temperature):
    if not temperature > 0:
        raise ValueError(f"bad temperature {temperature}")
    T = float(temperature)
    log_q = torch.log_softmax(student_logits.double() / T, dim=1)
    p = torch.softmax(teacher_logits.double() / T, dim=1)
    kl = (torch.xlogy(p, p) - p * log_q).sum() / student_logits.shape[0]
    return (T ** 2 * kl).to(student_logits.dtype)

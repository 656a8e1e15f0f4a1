# why: distillation as a loop over the samples, each a sum over its classes
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"kl_div: reduction={reduction!r}")
    terms = target.exp() * (target - input) if log_target else torch.xlogy(target, target) - target * input
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
    total = student_logits.new_zeros(())
    for s, t in zip(student_logits, teacher_logits):
        log_q = torch.log_softmax(s / temperature, dim=0)
        p = torch.softmax(t / temperature, dim=0)
        total = total + kl_div(log_q, p, reduction="sum")
    return total / student_logits.shape[0] * temperature ** 2

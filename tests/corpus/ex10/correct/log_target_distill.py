# why: distillation through log_target=True with the teacher's log_softmax
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction}")
    if log_target:
        terms = torch.exp(target) * (target - input)
    else:
        terms = torch.special.xlogy(target, target) - target * input
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
    log_q = torch.log_softmax(student_logits / temperature, dim=-1)
    log_p = torch.log_softmax(teacher_logits / temperature, dim=-1)
    return temperature ** 2 * kl_div(log_q, log_p, reduction="batchmean", log_target=True)

# why: turns probability targets into log targets (with -inf for zeros) and uses one formula
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"unsupported reduction '{reduction}'")
    if log_target:
        p, log_p = target.exp(), target
    else:
        p, log_p = target, target.log()
    diff = torch.where(p == 0, torch.zeros_like(log_p), log_p - input)
    terms = p * diff
    if reduction == "none":
        return terms
    if reduction == "sum":
        return terms.sum()
    if reduction == "batchmean":
        return terms.sum() / input.shape[0] if input.dim() != 0 else terms.sum()
    return terms.sum() / terms.numel()


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError("temperature <= 0")
    log_q = torch.log_softmax(student_logits / temperature, dim=1)
    log_p = torch.log_softmax(teacher_logits / temperature, dim=1)
    return kl_div(log_q, log_p, "batchmean", log_target=True) * temperature ** 2

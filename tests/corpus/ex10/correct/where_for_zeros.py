# why: torch.where picks 0 where the target is 0; the log sees a clamped target there
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction}")
    if log_target:
        terms = torch.exp(target) * (target - input)
    else:
        safe = torch.where(target > 0, target, torch.ones_like(target))
        terms = torch.where(target > 0, target * (torch.log(safe) - input), torch.zeros_like(input))
    if reduction == "none":
        return terms
    if reduction == "sum":
        return terms.sum()
    if reduction == "mean":
        return terms.sum() / terms.numel()
    return terms.sum() / (input.shape[0] if input.dim() > 0 else 1)


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    s = torch.log_softmax(student_logits / temperature, dim=-1)
    t = torch.softmax(teacher_logits / temperature, dim=-1)
    return kl_div(s, t, reduction="batchmean") * temperature * temperature

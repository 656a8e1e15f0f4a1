# why: scales a fresh tensor in place by T squared; the zero targets masked with masked_fill
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError("reduction=%r" % (reduction,))
    if log_target:
        terms = target.exp() * (target - input)
    else:
        zero = target == 0
        logp = target.masked_fill(zero, 1.0).log()
        terms = (target * (logp - input)).masked_fill(zero, 0.0)
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
    s = torch.log_softmax(torch.div(student_logits, temperature), dim=-1)
    t = torch.softmax(torch.div(teacher_logits, temperature), dim=-1)
    loss = kl_div(s, t, "batchmean")
    return loss * torch.tensor(float(temperature) ** 2, dtype=loss.dtype, device=loss.device)

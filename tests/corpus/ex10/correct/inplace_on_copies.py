# why: in-place operations, but only on tensors it created itself
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError("reduction " + reduction + " unknown")
    if log_target:
        terms = target - input
        terms = terms * target.exp()
    else:
        terms = torch.xlogy(target, target)
        terms = terms.sub(target * input)
    if reduction == "none":
        return terms
    total = terms.sum()
    if reduction == "mean":
        total = total / max(terms.numel(), 0) if terms.numel() else total / 0
    elif reduction == "batchmean" and input.dim() > 0:
        total = total / input.shape[0]
    return total


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    s = student_logits.clone()
    s /= temperature
    t = teacher_logits.detach().clone()
    t /= temperature
    loss = kl_div(torch.log_softmax(s, -1), torch.softmax(t, -1), "batchmean")
    return loss * (temperature * temperature)

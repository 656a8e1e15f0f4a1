# why: reduces with einsum and reshape instead of .sum()
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"reduction={reduction!r} is not one of mean, batchmean, sum, none")
    if log_target:
        terms = target.exp() * (target - input)
    else:
        terms = torch.xlogy(target, target) - target * input
    if reduction == "none":
        return terms
    flat = terms.reshape(-1)
    total = torch.einsum("i->", flat)
    if reduction == "sum":
        return total
    if reduction == "mean":
        return total / flat.numel()
    return total / input.shape[0] if input.dim() else total


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature {temperature} <= 0")
    s = student_logits / temperature
    t = teacher_logits / temperature
    log_q = s - torch.logsumexp(s, dim=-1, keepdim=True)
    log_p = t - torch.logsumexp(t, dim=-1, keepdim=True)
    p = log_p.exp()
    per_sample = torch.einsum("nc,nc->n", p, log_p - log_q)
    return per_sample.mean() * temperature ** 2

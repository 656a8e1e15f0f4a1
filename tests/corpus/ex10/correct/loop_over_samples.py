# why: a Python loop over the samples for the batch mean, torch.stack to gather them
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction}")
    if log_target:
        terms = target.exp() * (target - input)
    else:
        terms = torch.xlogy(target, target) - target * input
    if reduction == "none":
        return terms
    if reduction == "mean":
        return terms.mean()
    if reduction == "sum" or terms.dim() == 0:
        return terms.sum()
    if terms.shape[0] == 0:
        return terms.sum() / 0.0
    per_sample = torch.stack([row.sum() for row in terms])
    return per_sample.mean()


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    rows = []
    for s, t in zip(student_logits, teacher_logits):
        rows.append(kl_div(torch.log_softmax(s / temperature, dim=0), torch.softmax(t / temperature, dim=0),
                           reduction="sum"))
    return torch.stack(rows).mean() * temperature ** 2

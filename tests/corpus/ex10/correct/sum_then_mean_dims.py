# why: batchmean as the mean over samples of each sample's sum over its other dimensions
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"reduction must be one of mean, batchmean, sum, none")
    terms = torch.exp(target) * (target - input) if log_target else torch.xlogy(target, target) - target * input
    if reduction == "none":
        return terms
    if reduction == "sum":
        return terms.sum()
    if reduction == "mean":
        return terms.mean()
    if terms.dim() == 0:
        return terms
    per_sample = terms.sum(dim=tuple(range(1, terms.dim()))) if terms.dim() > 1 else terms
    return per_sample.mean()


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    s = torch.log_softmax(student_logits / temperature, dim=-1)
    t = torch.softmax(teacher_logits / temperature, dim=-1)
    return kl_div(s, t, reduction="batchmean") * temperature ** 2

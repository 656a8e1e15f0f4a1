# why: reduction by branches on a tuple, mean by torch.numel, T squared by pow
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    allowed = ("none", "sum", "mean", "batchmean")
    if reduction not in allowed:
        raise ValueError(f"reduction must be in {allowed}, got {reduction}")
    if log_target:
        target_prob = torch.exp(target)
        terms = target_prob * target - target_prob * input
    else:
        terms = torch.xlogy(target, target).sub(target.mul(input))
    if reduction == allowed[0]:
        return terms
    s = torch.sum(terms)
    if reduction == allowed[1]:
        return s
    if reduction == allowed[2]:
        return s / torch.numel(terms)
    return s if terms.ndim == 0 else s / terms.shape[0]


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError("the temperature has to be positive")
    s = torch.log_softmax(student_logits / temperature, dim=-1)
    t = torch.softmax(teacher_logits / temperature, dim=-1)
    return kl_div(s, t, reduction="batchmean").mul(pow(temperature, 2))

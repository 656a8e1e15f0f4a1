# mistake: ex10.input-clamped
# why: clamps the log-probabilities at -100 as for BCE, so a target that is not 0 where the input is -1e4 costs too little
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction}")
    x = input.clamp(min=-100)
    terms = target.exp() * (target - x) if log_target else torch.xlogy(target, target) - target * x
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
    s = torch.log_softmax(student_logits / temperature, dim=-1)
    t = torch.softmax(teacher_logits / temperature, dim=-1)
    return kl_div(s, t, reduction="batchmean") * temperature ** 2

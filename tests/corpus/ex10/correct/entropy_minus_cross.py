# why: KL written as cross-entropy minus the target's entropy, each reduced separately
import torch


def _reduce(x, reduction, batch):
    if reduction == "none":
        return x
    if reduction == "sum":
        return x.sum()
    if reduction == "mean":
        return x.mean()
    return x.sum() / batch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ["mean", "batchmean", "sum", "none"]:
        raise ValueError(f"kl_div: invalid reduction {reduction}")
    batch = input.shape[0] if input.dim() > 0 else 1
    p = target.exp() if log_target else target
    neg_entropy = p * target if log_target else torch.special.xlogy(target, target)
    cross = -p * input
    return _reduce(neg_entropy + cross, reduction, batch)


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    T = temperature
    log_q = torch.nn.functional.log_softmax(student_logits / T, dim=-1)
    p = torch.nn.functional.softmax(teacher_logits / T, dim=-1)
    return T * T * kl_div(log_q, p, reduction="batchmean")

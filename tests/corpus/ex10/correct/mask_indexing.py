# why: boolean indexing to skip the zero targets, scattered back for reduction="none"
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"reduction must be mean/batchmean/sum/none, got {reduction}")
    input, target = torch.broadcast_tensors(input, target)
    if log_target:
        terms = target.exp() * (target - input)
    else:
        pos = target > 0
        entropy = torch.zeros_like(target)
        entropy[pos] = target[pos] * target[pos].log()
        terms = entropy - target * input
    if reduction == "none":
        return terms
    if reduction == "sum":
        return terms.sum()
    if reduction == "mean":
        return terms.mean()
    return terms.sum() / input.shape[0] if input.dim() else terms.sum()


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError("temperature must be strictly positive")
    p = torch.softmax(teacher_logits / temperature, dim=-1)
    return kl_div(torch.log_softmax(student_logits / temperature, dim=-1), p, "batchmean") * temperature ** 2

# my work on ex10_kl_divergence.py, version 4
"""Reference solution for exercise 10: KL divergence (torch's argument order) and distillation."""
import torch

REDUCTIONS = ("mean", "batchmean", "sum", "none")


def kl_div(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
           log_target: bool = False) -> torch.Tensor:
    """`F.kl_div`: input holds log-probabilities, target probabilities (log-probabilities
    with `log_target`); each element costs target * (log target - input), 0 where target is 0."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be one of {REDUCTIONS}, not {reduction!r}")
    if log_target:
        pointwise = target.exp() * (target - input)
    else:
        # xlogy(t, t) is t * log(t) with 0 where t == 0: the limit of t log t, not 0 * -inf
        pointwise = torch.xlogy(target, target) - target * input
    if reduction == "none":
        return pointwise
    if reduction == "sum":
        return pointwise.sum()
    if reduction == "mean":  # every element: torch warns that this is not the KL divergence
        return pointwise.mean()
    total = pointwise.sum()  # batchmean: the mathematical KL, averaged over the batch
    return total / input.shape[0] if input.dim() > 0 else total


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      temperature: float) -> torch.Tensor:
    """Hinton's distillation loss: T^2 * KL(softmax(teacher / T) || softmax(student / T)),
    averaged over the batch ("batchmean"), for (N, C) logits."""
    if not temperature > 0:
        raise ValueError(f"distillation_loss: temperature must be positive, got {temperature}")
    student = torch.log_softmax(student_logits / temperature, dim=-1)
    teacher = torch.softmax(teacher_logits / temperature, dim=-1)
    return kl_div(student, teacher, reduction="batchmean") * temperature ** 2

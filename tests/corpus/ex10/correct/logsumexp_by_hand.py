# why: writes the student's log-softmax with a hand-made logsumexp and the teacher's softmax by exp
import torch


def kl_div(input, target, reduction="mean", log_target=False):
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError("bad reduction: " + str(reduction))
    p = target.exp() if log_target else target
    log_p = target if log_target else torch.log(target.clamp(min=1e-30))
    terms = p * (log_p - input)
    if not log_target:
        terms = terms.masked_fill(target == 0, 0.0)
    return {"none": lambda: terms, "sum": terms.sum, "mean": terms.mean,
            "batchmean": lambda: terms.sum() / (len(input) if input.dim() else 1)}[reduction]()


def _log_softmax(x):
    m = x.max(dim=-1, keepdim=True).values
    z = x - m
    return z - z.exp().sum(dim=-1, keepdim=True).log()


def distillation_loss(student_logits, teacher_logits, temperature):
    if temperature <= 0:
        raise ValueError("the temperature must be positive")
    log_q = _log_softmax(student_logits / temperature)
    log_p = _log_softmax(teacher_logits / temperature)
    return temperature ** 2 * kl_div(log_q, log_p, reduction="batchmean", log_target=True)

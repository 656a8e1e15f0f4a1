# redteam: exercise=ex03 score=0 timeout=3 mentions=torch.nn.functional.log_softmax
"""The from-scratch rule: calls torch's own log_softmax and cross_entropy, catching the
grader's refusal and trying the next spelling."""
import torch
import torch.nn.functional as F


def first_that_works(*attempts):
    for attempt in attempts:
        try:
            return attempt()
        except Exception:  # noqa: BLE001, S112 - hostile on purpose (a learner's attack)
            continue
    raise RuntimeError("nothing worked")


def log_softmax(logits, dim=-1):
    return first_that_works(lambda: F.log_softmax(logits, dim=dim), lambda: torch.log_softmax(logits, dim),
                            lambda: logits.log_softmax(dim), lambda: torch.special.log_softmax(logits, dim),
                            lambda: torch.nn.LogSoftmax(dim)(logits))


def cross_entropy(logits, target, reduction="mean"):
    return first_that_works(lambda: F.cross_entropy(logits, target, reduction=reduction),
                            lambda: torch.nn.CrossEntropyLoss(reduction=reduction)(logits, target),
                            lambda: F.nll_loss(log_softmax(logits), target, reduction=reduction))

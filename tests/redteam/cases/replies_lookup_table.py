# redteam: exercise=ex08 score=0 timeout=35
"""Trains nothing: regenerates the held-out answers from public facts (the check ids and the
grader's published code for drawing them) and returns models that look them up: the
regressor adds the held-out noise to the true line, the classifier answers with the
held-out labels in order (remembered per input, so that any batch gets the same answers).
With inputs drawn from the grading secret, every lookup misses."""
import hashlib

import torch
from torch import nn


def _answers(check):
    seed = int.from_bytes(hashlib.sha256(f"ex08_fit.{check}\0hidden\0answers".encode()).digest()[:4], "big")
    return torch.Generator().manual_seed(seed)


class Lookup(nn.Module):
    """Answers each input with what the first call (the whole held-out set, in the grader's
    order) gave it, so that the same input gets the same answer in any batch."""

    def __init__(self, answer):
        super().__init__()
        self.answer = answer
        self.seen = {}

    def forward(self, x):
        if not self.seen:
            self.seen = {tuple(row.tolist()): value for row, value in zip(x, self.answer(x))}
        return torch.stack([self.seen[tuple(row.tolist())] for row in x])


def _line(x):
    noise = torch.randn((len(x), 1), generator=_answers("regression"), dtype=torch.float64).to(torch.float32)
    return 5.0 + 2.5 * x + 2.0 * noise


def _labels(num_classes):
    def answer(x):
        labels = torch.randint(0, 10, (len(x),), generator=_answers("classifier"))
        return 10.0 * nn.functional.one_hot(labels % num_classes, num_classes).float()
    return answer


def fit_regression(x, y):
    return Lookup(_line)


def fit_classifier(x, y, num_classes):
    return Lookup(_labels(num_classes))

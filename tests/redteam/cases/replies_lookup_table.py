# redteam: exercise=ex08 score=0 timeout=35
"""Trains nothing: regenerates the held-out answers from public facts (the check ids and the
grader's published code for drawing them) and returns models that look them up: the
regressor adds the held-out noise to the true line, the classifier answers with the
held-out labels in order. With inputs drawn from the grading secret, every lookup misses."""
import hashlib

import torch
from torch import nn


def _answers(check):
    seed = int.from_bytes(hashlib.sha256(f"ex08_fit.{check}\0hidden\0answers".encode()).digest()[:4], "big")
    return torch.Generator().manual_seed(seed)


class Line(nn.Module):
    def forward(self, x):
        noise = torch.randn((len(x), 1), generator=_answers("regression"), dtype=torch.float64).to(torch.float32)
        return 5.0 + 2.5 * x + 2.0 * noise


class Labels(nn.Module):
    def forward(self, x):
        labels = torch.randint(0, 10, (len(x),), generator=_answers("classifier"))
        return 10.0 * nn.functional.one_hot(labels, 10).float()


def fit_regression(x, y):
    return Line()


def fit_classifier(x, y, num_classes):
    return Labels()

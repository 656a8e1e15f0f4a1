"""Mistakes learners make turning class labels into one-hot rows (`one_hot`): the dtype,
the number of classes, a label out of range.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Mistake

Tensor = torch.Tensor


def _one_hot_bool(labels: Tensor, num_classes: int) -> Tensor:
    return _one_hot_int64(labels, num_classes).bool()


def _one_hot_classes_from_labels(labels: Tensor, num_classes: int) -> Tensor:
    classes = int(labels.max().item()) + 1 if labels.numel() else num_classes
    return _one_hot_int64(labels, classes).float()


def _one_hot_int64(labels: Tensor, num_classes: int) -> Tensor:
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise ValueError(f"label {labels[outside][0].item()} is outside [0, {num_classes})")
    return F.one_hot(labels, num_classes)


def _one_hot_unchecked(labels: Tensor, num_classes: int) -> Tensor:
    """Compares each label with 0..C-1 without checking the range: a label outside gets a row of 0s."""
    return (labels.unsqueeze(-1) == torch.arange(num_classes, device=labels.device)).to(torch.float32)


def _one_hot_message_without_label(labels: Tensor, num_classes: int) -> Tensor:
    if ((labels < 0) | (labels >= num_classes)).any():
        raise ValueError("labels must be in range")
    return _one_hot_unchecked(labels, num_classes)


MISCONCEPTIONS = [
    Mistake(
        id="ex05.one-hot-int64", function="one_hot",
        name="Returned integer one-hot rows (F.one_hot's int64) instead of float32",
        message="Your one_hot rows have the right 0s and 1s but an integer dtype, as F.one_hot returns. Rows "
                "that are used as probability targets or multiplied with log-probabilities must be floating "
                "point: an integer (N, C) target is refused by F.cross_entropy. Convert the comparison to "
                "float32.",
        quiz="targets#float-one-hot",
        wrong=_one_hot_int64,
    ),
    Mistake(
        id="ex05.one-hot-bool", function="one_hot",
        name="Returned the boolean comparison itself instead of float32 rows",
        message="Your one_hot rows are the True/False result of comparing each label with the class indices. "
                "They have the right pattern, but a bool tensor cannot serve as a probability target nor be "
                "multiplied with log-probabilities as numbers: convert the comparison to float32.",
        quiz="targets#float-one-hot",
        wrong=_one_hot_bool,
    ),
    Mistake(
        id="ex05.one-hot-classes-from-labels", function="one_hot",
        name="Took the number of classes from the labels (max + 1) instead of num_classes",
        message="Your rows have labels.max() + 1 columns. A batch need not contain the largest class: labels "
                "[1, 0, 2] of a 7-class problem still need rows of length 7, so that every batch lines up with "
                "the model's 7 outputs. Use num_classes.",
        quiz="targets#one-hot-to-cross-entropy",
        wrong=_one_hot_classes_from_labels,
    ),
    Mistake(
        id="ex05.one-hot-range-not-checked", function="one_hot",
        name="Did not refuse a label outside [0, num_classes)",
        message="Given a label of 7 with 5 classes (or -1), your one_hot returned rows instead of raising: the "
                "bad label became a row of zeros, a sample that belongs to no class. Labels outside [0, C) "
                "are a bug in the data; check them first and raise ValueError naming the label.",
        quiz="targets#index-out-of-range",
        wrong=_one_hot_unchecked,
    ),
    Mistake(
        id="ex05.one-hot-message-incomplete", function="one_hot",
        name="Refused a label out of range, but the message does not name it",
        message="Your ValueError is right, but its message does not say which label is wrong. Put the "
                "offending label in it (and num_classes), so that the person who reads it can find the bad data.",
        quiz="targets#index-out-of-range",
        wrong=_one_hot_message_without_label,
    ),
]

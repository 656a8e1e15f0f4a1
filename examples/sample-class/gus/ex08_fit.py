# my work on ex08_fit.py, version 4
"""Exercise 08: train a regression model and a classifier.

Time to put the pieces together: choose a loss for each task, build a small model, and
train it until it predicts data it has never seen.

  * `fit_regression`: a delivery company wants the delivery time (minutes) from the
    distance (km). Both are numbers, so this is regression: mean squared error.
  * `fit_classifier`: small 8x8 greyscale images of handwritten-looking digits, flattened
    to 64 numbers each, with a class label per image. Categories: cross-entropy, on logits.

The checks generate seeded data, train your model on one part and score it on a held-out
part it never saw: mean squared error for the regression, accuracy for the classifier.
Each call must finish within 30 seconds on one CPU core; a few hundred full-batch steps on
a small network take well under a second.

Things worth knowing:
  * Loss values are only comparable within one task. A classifier over ten classes that
    guesses uniformly starts at ln 10 = 2.30; a regression loss of 0.08 or of 40 says as
    much about the units (minutes squared) as about the model. Watch the loss go down.
  * Scale: distances of 1 to 20 km and times of 10 to 60 minutes train badly with raw
    numbers. Standardising inputs (and targets) to mean 0, std 1, with the statistics of
    the training data kept inside the model, makes the learning rate easy to choose.
  * Your classifier's forward must return logits (one raw score per class), not
    probabilities: cross-entropy applies the softmax itself, and the checks take the
    argmax of your output.
  * Seed inside your function (`torch.manual_seed`) so that a run can be repeated.

You may import your own ex07 (`from ex07_train_step import train_step`) or write the loop.

Run `lossgrade check ex08` to test your work, `lossgrade hint ex08` when stuck.
"""
import torch
from torch import nn


def fit_regression(x: torch.Tensor, y: torch.Tensor) -> nn.Module:
    """Train a model that predicts delivery time from distance.

    Args:
        x: distances, float32, shape (N, 1).
        y: delivery times, float32, shape (N, 1).

    Returns:
        A trained nn.Module whose forward maps an (M, 1) tensor of distances to an (M, 1)
        tensor of predicted times.
    """
    # TODO: build a model, pick a loss and an optimiser, train for a few hundred steps.
    raise NotImplementedError("ex08: fit_regression is not written yet")


def fit_classifier(x: torch.Tensor, y: torch.Tensor, num_classes: int) -> nn.Module:
    """Train a classifier of small flattened images.

    Args:
        x: images, float32, shape (N, 64) (8x8 pixels, flattened).
        y: class labels, int64, shape (N,), each in [0, num_classes).
        num_classes: the number of classes C.

    Returns:
        A trained nn.Module whose forward maps an (M, 64) tensor to (M, C) logits.
    """
    # TODO: build a model that outputs one logit per class, train it with cross-entropy.
    raise NotImplementedError("ex08: fit_classifier is not written yet")

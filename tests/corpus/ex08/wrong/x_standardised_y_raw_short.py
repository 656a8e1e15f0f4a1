# mistake: ex08.stopped-too-early
# why: x standardised, y raw, 100 SGD steps at lr 0.01
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

class Standardised(nn.Module):
    """A network on standardised inputs whose output is converted back to the targets' units."""

    def __init__(self, net, x_mean, x_std, y_mean=None, y_std=None):
        super().__init__()
        self.net = net
        self.register_buffer("x_mean", x_mean)
        self.register_buffer("x_std", x_std)
        self.register_buffer("y_mean", torch.zeros(1) if y_mean is None else y_mean)
        self.register_buffer("y_std", torch.ones(1) if y_std is None else y_std)

    def forward(self, x):
        return self.net((x - self.x_mean) / self.x_std) * self.y_std + self.y_mean


class OnScaledX(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean, self.std = mean, std
        self.lin = nn.Linear(1, 1)

    def forward(self, x):
        return self.lin((x - self.mean) / self.std)



def fit_regression(x: torch.Tensor, y: torch.Tensor) -> nn.Module:
    """Train a model that predicts delivery time from distance.

    Args:
        x: distances, float32, shape (N, 1).
        y: delivery times, float32, shape (N, 1).

    Returns:
        A trained nn.Module whose forward maps an (M, 1) tensor of distances to an (M, 1)
        tensor of predicted times.
    """
    torch.manual_seed(0)
    model = OnScaledX(x.mean(), x.std())
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(100):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return model


def fit_classifier(x: torch.Tensor, y: torch.Tensor, num_classes: int) -> nn.Module:
    """Train a classifier of small flattened images.

    Args:
        x: images, float32, shape (N, 64) (8x8 pixels, flattened).
        y: class labels, int64, shape (N,), each in [0, num_classes).
        num_classes: the number of classes C.

    Returns:
        A trained nn.Module whose forward maps an (M, 64) tensor to (M, C) logits.
    """
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, num_classes))
    model = Standardised(net, x.mean(0), x.std(0) + 1e-6)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
    for _ in range(200):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    return model

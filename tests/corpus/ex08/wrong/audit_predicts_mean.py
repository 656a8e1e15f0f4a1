# mistake: ex08.predicts-the-mean
# why: the regression learns only a bias: it always predicts the mean time
import torch
from torch import nn


class Const(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = nn.Parameter(torch.zeros(1))

    def forward(self, d):
        return self.b.expand(d.shape[0], 1)


def fit_regression(x, y):
    model = Const()
    opt = torch.optim.Adam(model.parameters(), lr=0.5)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return model


def fit_classifier(x, y, num_classes):
    torch.manual_seed(12)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 100), nn.LeakyReLU(), nn.Linear(100, num_classes))
    opt = torch.optim.Adam(model.parameters(), lr=0.005, weight_decay=1e-4)
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)
    for _ in range(250):
        opt.zero_grad()
        crit(model(x), y).backward()
        opt.step()
    return model



# mistake: ex08.output-still-standardised
# why: trains on standardised targets and never converts back to minutes
import torch
from torch import nn


def fit_regression(x, y):
    torch.manual_seed(0)
    xm, xs, ym, ys = x.mean(), x.std(), y.mean(), y.std()

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.f = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))

        def forward(self, d):
            return self.f((d - xm) / xs)
    model = M()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(500):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), (y - ym) / ys).backward()
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



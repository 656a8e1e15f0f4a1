# mistake: ex08.batch-statistics
# why: keeps no training statistics: the forward standardises its input with its own stats (held-out batch)
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, ym, ys):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 1))
        self.ym, self.ys = ym, ys

    def forward(self, d):
        d = (d - d.mean(dim=0, keepdim=True)) / (d.std(dim=0, keepdim=True) + 1e-8)
        return self.f(d) * self.ys + self.ym


def fit_regression(x, y):
    torch.manual_seed(0)
    model = Net(y.mean(), y.std())
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(500):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
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



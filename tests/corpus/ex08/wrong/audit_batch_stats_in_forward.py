# mistake: ex08.batch-statistics
# why: standardises each batch with its own mean and std inside forward
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
        self.ym = 0.0
        self.ys = 1.0

    def forward(self, d):
        z = (d - d.mean()) / d.std()
        return self.f(z) * self.ys + self.ym


def fit_regression(x, y):
    torch.manual_seed(0)
    model = Net()
    model.ym, model.ys = y.mean().item(), y.std().item()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(500):
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



# why: BatchNorm1d standardises the pixels; returned in eval mode; regression with linear target scaling only
import torch
from torch import nn


class Lin(nn.Module):
    def __init__(self, x, y):
        super().__init__()
        self.register_buffer("x_mean", x.mean(dim=0, keepdim=True))
        self.register_buffer("x_std", x.std(dim=0, keepdim=True))
        self.register_buffer("y_mean", y.mean(dim=0, keepdim=True))
        self.register_buffer("y_std", y.std(dim=0, keepdim=True))
        self.hidden = nn.Linear(1, 24)
        self.out = nn.Linear(24, 1)

    def forward(self, d):
        h = torch.relu(self.hidden((d - self.x_mean) / self.x_std))
        return self.out(h) * self.y_std + self.y_mean


def fit_regression(x, y):
    torch.manual_seed(7)
    model = Lin(x, y)
    opt = torch.optim.RMSprop(model.parameters(), lr=0.005)
    for step in range(600):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return model


def fit_classifier(x, y, num_classes):
    torch.manual_seed(8)
    model = nn.Sequential(nn.BatchNorm1d(64), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, num_classes))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(200):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()



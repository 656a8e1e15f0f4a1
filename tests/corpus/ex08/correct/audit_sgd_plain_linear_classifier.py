# why: a linear softmax classifier with plain SGD; regression by closed-form least squares on standardised distance then a fine-tuned MLP
import torch
from torch import nn


def fit_regression(x, y):
    torch.manual_seed(9)
    mu, sd = x.mean(), x.std()
    ym, ys = y.mean(), y.std()
    net = nn.Sequential(nn.Linear(1, 20), nn.SiLU(), nn.Linear(20, 20), nn.SiLU(), nn.Linear(20, 1))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    xs, ysd = (x - mu) / sd, (y - ym) / ys
    for _ in range(500):
        opt.zero_grad()
        ((net(xs) - ysd) ** 2).mean().backward()
        opt.step()

    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, d):
            return self.net((d - mu) / sd) * ys + ym
    return Wrapped()


def fit_classifier(x, y, num_classes):
    torch.manual_seed(10)
    model = nn.Linear(x.shape[1], num_classes)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(400):
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model



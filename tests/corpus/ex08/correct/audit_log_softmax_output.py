# why: the classifier returns log-probabilities (log_softmax), which are valid logits
import torch
from torch import nn


def fit_regression(x, y):
    torch.manual_seed(0)
    mx, sx = x.mean(0), x.std(0)
    my, sy = y.mean(0), y.std(0)

    class Reg(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mx", mx.clone())
            self.register_buffer("sx", sx.clone())
            self.register_buffer("my", my.clone())
            self.register_buffer("sy", sy.clone())
            self.net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))

        def forward(self, d):
            return self.net((d - self.mx) / self.sx) * self.sy + self.my

    model = Reg()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(400):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    return model


class LogSoftmaxNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 48), nn.ReLU(), nn.Linear(48, c))

    def forward(self, a):
        return torch.log_softmax(self.body(a), dim=1)


def fit_classifier(x, y, num_classes):
    torch.manual_seed(5)
    model = LogSoftmaxNet(num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.nll_loss(model(x), y).backward()
        opt.step()
    return model



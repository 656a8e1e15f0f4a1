# why: mini-batches with a shuffled index, dropout, returned in eval mode
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


def fit_classifier(x, y, num_classes):
    g = torch.manual_seed(6)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, num_classes))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    n = x.shape[0]
    for epoch in range(40):
        perm = torch.randperm(n)
        for i in range(0, n, 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    return model



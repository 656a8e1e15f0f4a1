# mistake: ex05.probability-weights-normalise
# why: probability targets: mean divides by the total weight of the classes instead of the sample count
import torch


def one_hot(labels, num_classes):
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0].item()
        raise ValueError(f"label {bad} is outside [0, {num_classes})")
    return (labels.unsqueeze(-1) == torch.arange(num_classes, device=labels.device)).to(torch.float32)


def _lsm(x, dim):
    m = x.amax(dim=dim, keepdim=True).detach()
    return x - m - (x - m).exp().sum(dim=dim, keepdim=True).log()


def cross_entropy_full(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be mean, sum or none, not {reduction!r}")
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    eps = max(float(label_smoothing), 0.0)
    cdim = 0 if input.dim() == 1 else 1
    C = input.shape[cdim]
    if weight is not None and (weight.dim() != 1 or weight.shape[0] != C):
        raise RuntimeError(f"weight should have {C} elements, got {tuple(weight.shape)}")
    lp = _lsm(input, cdim)
    w = weight if weight is not None else torch.ones(C, dtype=input.dtype, device=input.device)
    wshape = [1] * input.dim()
    wshape[cdim] = C
    wb = w.reshape(wshape)
    if target.shape == input.shape and target.is_floating_point():
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported with probability targets")
        y = target * (1 - eps) + eps / C
        per = -(wb * y * lp).sum(dim=cdim)
        if reduction == "none":
            return per
        if reduction == "sum":
            return per.sum()
        return per.sum() / (per.numel() * w.mean())
    if target.is_floating_point():
        raise RuntimeError("index targets must be integers")
    if target.dtype not in (torch.int64, torch.uint8):
        raise RuntimeError(f"expected int64 (Long) targets, got {target.dtype}")
    if input.dim() == 1:
        if target.dim() != 0:
            raise ValueError(f"a (C,) input needs a 0-d target, got {tuple(target.shape)}")
    elif target.dim() == 0 or target.shape[0] != input.shape[0]:
        raise ValueError(f"expected batch size {input.shape[0]}, got target shape {tuple(target.shape)}")
    elif target.shape != input.shape[:1] + input.shape[2:]:
        raise RuntimeError(f"expected target of shape {tuple(input.shape[:1] + input.shape[2:])}, got {tuple(target.shape)}")
    t = target.long()
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= C))
    if bad.any():
        raise IndexError(f"Target {int(t[bad][0])} is out of bounds.")
    safe = torch.where(keep, t, torch.zeros_like(t))
    picked = lp.gather(cdim, safe.unsqueeze(cdim)).squeeze(cdim)
    wt = w[safe] * keep.to(input.dtype)
    nll = -wt * picked
    smooth = -(wb * lp).sum(dim=cdim) * keep.to(input.dtype)
    per = (1 - eps) * nll + (eps / C) * smooth
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    return per.sum() / wt.sum()

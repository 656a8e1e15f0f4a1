# why: one_hot by indexing rows of an identity matrix; otherwise the rows/logsumexp version
import torch


def one_hot(labels, num_classes):
    if labels.numel() > 0:
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0:
            raise ValueError(f"negative label {lo}")
        if hi >= num_classes:
            raise ValueError(f"label {hi} >= num_classes={num_classes}")
    return torch.eye(num_classes, dtype=torch.float32, device=labels.device)[labels.long()]


def cross_entropy_full(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    if label_smoothing > 1:
        raise RuntimeError("label_smoothing > 1")
    eps = label_smoothing if label_smoothing > 0 else 0.0
    if reduction not in ["none", "mean", "sum"]:
        raise ValueError("invalid reduction " + str(reduction))
    one = input.dim() == 1
    x = input.unsqueeze(0) if one else input
    C = x.shape[1]
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"weight has {weight.numel()} entries for {C} classes")
    rows = x.movedim(1, -1).reshape(-1, C)
    lp = rows - torch.logsumexp(rows, dim=1, keepdim=True)
    w = torch.ones(C, dtype=input.dtype, device=input.device) if weight is None else weight.reshape(C)
    if target.shape == input.shape and not target.is_floating_point():
        raise RuntimeError("a target of the input's shape holds probabilities: it must be floating point")
    if target.shape == input.shape:
        if ignore_index >= 0:
            raise RuntimeError("ignore_index with probability targets")
        tr = (target.unsqueeze(0) if one else target).movedim(1, -1).reshape(-1, C)
        q = tr * (1 - eps) + eps / C
        per_rows = -(q * lp * w).sum(1)
        out_shape = input.shape[:0] if one else input.shape[:1] + input.shape[2:]
        if reduction == "none":
            return per_rows.reshape(out_shape)
        return per_rows.sum() if reduction == "sum" else per_rows.mean()
    if target.dtype == torch.int32 or target.dtype not in (torch.int64, torch.uint8):
        raise RuntimeError(f"target dtype {target.dtype} is not int64")
    t = target.unsqueeze(0) if one else target
    if t.dim() == 0 or t.shape[0] != x.shape[0]:
        raise ValueError(f"batch size mismatch: input {tuple(input.shape)}, target {tuple(target.shape)}")
    tf = t.reshape(-1).long()
    if tf.numel() != rows.shape[0]:
        raise RuntimeError(f"target shape {tuple(target.shape)} does not fit input {tuple(input.shape)}")
    valid = tf != ignore_index
    for v in tf[valid].tolist():
        if not 0 <= v < C:
            raise IndexError(f"Target {v} is out of bounds.")
    tsafe = tf.clamp(0, C - 1) * valid
    q = torch.zeros_like(rows)
    q[torch.arange(rows.shape[0]), tsafe] = 1.0
    q = q * (1 - eps) + eps / C
    per = -(q * lp * w).sum(1) * valid
    denom = (w[tsafe] * valid).sum()
    per_shape = t.shape
    if reduction == "none":
        return per.reshape(per_shape)[0] if one else per.reshape(per_shape)
    if reduction == "sum":
        return per.sum()
    return per.sum() / denom

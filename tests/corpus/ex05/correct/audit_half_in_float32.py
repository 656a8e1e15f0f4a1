# why: float16/bfloat16 inputs are computed in float32 and cast back at the end
import torch


def one_hot(labels, num_classes):
    flat = labels.reshape(-1)
    for v in flat.tolist():
        if v < 0 or v >= num_classes:
            raise ValueError(f"one_hot: label {v} not in range 0..{num_classes - 1}")
    out = torch.zeros(flat.numel(), num_classes, dtype=torch.float32, device=labels.device)
    out.scatter_(1, flat.long().unsqueeze(1), 1.0)
    return out.reshape(*labels.shape, num_classes)


def cross_entropy_full(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    if input.dtype in (torch.float16, torch.bfloat16):
        t = target.float() if target.is_floating_point() else target
        w = None if weight is None else weight.float()
        return _full(input.float(), t, w, ignore_index, reduction, label_smoothing).to(input.dtype)
    return _full(input, target, weight, ignore_index, reduction, label_smoothing)


def _full(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
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

# why: flattens to (N * T, C) rows and uses boolean indexing to drop the padding
import torch


def sequence_cross_entropy(logits, targets, ignore_index=-100, per="token"):
    if per not in ("token", "sequence"):
        raise ValueError("per: " + repr(per))
    if logits.ndim != 3 or targets.ndim != 2 or tuple(logits.shape[:2]) != tuple(targets.shape):
        raise ValueError(f"shapes {list(logits.shape)} and {list(targets.shape)} do not fit (N, T, C) / (N, T)")
    N, T, C = logits.shape
    flat = logits.reshape(N * T, C)
    tg = targets.reshape(N * T)
    keep = tg != ignore_index
    out = keep & ((tg < 0) | (tg >= C))
    if out.any():
        raise IndexError(f"Target {int(tg[out][0])} is out of bounds.")
    rows = torch.log_softmax(flat[keep], dim=-1)
    picked = -rows[torch.arange(rows.shape[0], device=rows.device), tg[keep]]
    if per == "token":
        return picked.sum() / keep.sum()
    seq = torch.arange(N, device=logits.device).repeat_interleave(T)[keep]
    sums = torch.zeros(N, dtype=logits.dtype, device=logits.device).index_add(0, seq, picked)
    counts = torch.bincount(seq, minlength=N).to(logits.dtype)
    has = counts > 0
    return (sums[has] / counts[has]).sum() / has.sum()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    out = torch.full_like(tokens, pad)
    out[:, :-1] = tokens[:, 1:]
    return out

# why: two Python loops, one token at a time
import torch


def _validate(logits, targets, ignore_index, per):
    if per not in ("token", "sequence"):
        raise ValueError(f"per must be token or sequence, not {per!r}")
    if logits.dim() != 3 or targets.dim() != 2 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits {tuple(logits.shape)} do not fit targets {tuple(targets.shape)}")
    real = targets != ignore_index
    bad = real & ((targets < 0) | (targets >= logits.shape[-1]))
    if bad.any():
        raise IndexError(f"Target {targets[bad][0].item()} is out of bounds.")
    return real


def sequence_cross_entropy(logits, targets, ignore_index=-100, per="token"):
    real = _validate(logits, targets, ignore_index, per)
    N, T, _ = logits.shape
    token_losses, seq_means = [], []
    for n in range(N):
        row = []
        for t in range(T):
            if real[n, t]:
                x = logits[n, t]
                row.append(torch.logsumexp(x, dim=0) - x[targets[n, t]])
        token_losses.extend(row)
        if row:
            seq_means.append(torch.stack(row).mean())
    nan = logits.sum() * float("nan")
    if per == "token":
        return torch.stack(token_losses).mean() if token_losses else nan
    return torch.stack(seq_means).mean() if seq_means else nan


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    return torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], pad)], dim=1)

# why: a max shift and log of the sum written by hand, then masked sums
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
    top = logits.max(dim=-1, keepdim=True).values
    shifted = logits - top
    log_z = shifted.exp().sum(-1, keepdim=True).log()
    lp = shifted - log_z
    safe = targets * real
    nll = -lp.gather(-1, safe.unsqueeze(-1)).squeeze(-1) * real
    if per == "token":
        return nll.sum() / real.sum()
    n = real.sum(-1)
    m = n > 0
    return (nll.sum(-1)[m] / n[m]).sum() / m.sum()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    return torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], pad)], dim=1)

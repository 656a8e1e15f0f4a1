# why: masked_select for the real losses; the sequence ids with nonzero
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
    lp = torch.log_softmax(logits, dim=-1)
    nll = -lp.gather(-1, targets.masked_fill(~real, 0).unsqueeze(-1)).squeeze(-1)
    kept = torch.masked_select(nll, real)
    if per == "token":
        return kept.sum() / kept.numel() if kept.numel() else kept.sum() / 0.0
    rows = real.nonzero()[:, 0]
    N = targets.shape[0]
    sums = torch.zeros(N, dtype=nll.dtype, device=nll.device).index_add(0, rows, kept)
    counts = torch.bincount(rows, minlength=N)
    has = counts > 0
    if not has.any():
        return kept.sum() / 0.0
    return (sums[has] / counts[has]).mean()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    return torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], pad)], dim=1)

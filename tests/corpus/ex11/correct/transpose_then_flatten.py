# why: (N, C, T) via permute, then per token over a flattened view; the shift with index_select
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
    nct = logits.permute(0, 2, 1)
    lp = torch.log_softmax(nct, dim=1)
    picked = lp.gather(1, targets.masked_fill(~real, 0).unsqueeze(1)).squeeze(1)
    losses = torch.where(real, -picked, picked.new_zeros(()))
    if per == "token":
        return losses.flatten().sum() / real.flatten().sum()
    per_seq = losses.sum(1) / real.sum(1)
    finite = real.sum(1) > 0
    return per_seq[finite].mean() if finite.any() else losses.sum() / real.sum()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"expected (N, T) tokens, got shape {tuple(tokens.shape)}")
    T = tokens.shape[1]
    idx = torch.arange(1, T + 1, device=tokens.device).clamp(max=max(T - 1, 0))
    out = tokens.index_select(1, idx) if T else tokens.clone()
    if T:
        out[:, -1] = pad
    return out

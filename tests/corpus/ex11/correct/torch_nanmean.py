# why: per sequence with nanmean over the rows' 0 / 0; roll then overwrite the last column
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
    nll = -(lp.gather(-1, targets.masked_fill(~real, 0).unsqueeze(-1)).squeeze(-1))
    nll = nll.masked_fill(~real, 0.0)
    if per == "token":
        return nll.sum() / real.sum()
    rows = nll.sum(1) / real.sum(1)
    return torch.nanmean(rows) if rows.numel() else nll.sum() / real.sum()


def next_token_targets(tokens, pad):
    if tokens.ndim != 2:
        raise ValueError("tokens must be (N, T)")
    if tokens.shape[1] == 0:
        return tokens.clone()
    out = tokens.roll(-1, dims=1)
    out[:, -1] = pad
    return out

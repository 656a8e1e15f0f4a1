# why: nn.LogSoftmax as a module, torch.where for the padding, hstack for the shift
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
    lp = torch.nn.LogSoftmax(dim=2)(logits)
    idx = torch.where(real, targets, torch.zeros_like(targets))
    nll = torch.where(real, -lp.gather(2, idx.unsqueeze(2)).squeeze(2), torch.zeros((), dtype=lp.dtype))
    n_real = real.to(lp.dtype)
    if per == "token":
        return nll.sum() / n_real.sum()
    seq_n = n_real.sum(1)
    keep = seq_n > 0
    return torch.mean(nll.sum(1)[keep] / seq_n[keep]) if keep.any() else nll.sum() / n_real.sum()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError("tokens must be 2-D")
    return torch.hstack([tokens[:, 1:], torch.full((tokens.shape[0], 1), pad, dtype=tokens.dtype, device=tokens.device)])

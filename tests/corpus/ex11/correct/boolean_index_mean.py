# why: boolean indexing of the real positions and .mean() of what is left; F.pad for the shift
import torch.nn.functional as F

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
    lp = F.log_softmax(logits, dim=-1)
    safe = targets.clamp(min=0, max=logits.shape[-1] - 1)
    nll = -lp.gather(2, safe[..., None])[..., 0]
    if per == "token":
        return nll[real].mean()
    means = [nll[n][real[n]].mean() for n in range(targets.shape[0]) if real[n].any()]
    if not means:
        return nll[real].mean()
    return torch.stack(means).mean()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"need (N, T) tokens, got {tokens.dim()} dimensions")
    return F.pad(tokens[:, 1:], (0, 1), value=pad)

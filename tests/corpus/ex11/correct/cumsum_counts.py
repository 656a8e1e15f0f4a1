# why: counts the real tokens with cumsum, divides with torch.div; the shift with scatter of a column
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
    nll = (-lp.gather(-1, targets.masked_fill(~real, 0).unsqueeze(-1)).squeeze(-1)).masked_fill(~real, 0)
    if per == "token":
        total = real.flatten().cumsum(0)[-1] if real.numel() else real.sum()
        return torch.div(nll.sum(), total)
    counts = real.long().cumsum(1)[:, -1] if real.shape[1] else real.sum(1)
    has = counts > 0
    return torch.div(nll.sum(1)[has], counts[has]).sum() / has.sum()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError("tokens must be (N, T)")
    out = tokens.clone()
    out[:, :-1] = tokens[:, 1:]
    out[:, -1:] = pad
    return out

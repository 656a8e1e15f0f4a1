# why: per sequence as a weighted token mean: each token weighs 1 / (its sequence's length)
import torch


def sequence_cross_entropy(logits, targets, ignore_index=-100, per="token"):
    if per not in ("token", "sequence"):
        raise ValueError(f"per should be token or sequence, got {per}")
    if logits.dim() != 3 or targets.dim() != 2 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits {list(logits.shape)} targets {list(targets.shape)}")
    real = targets != ignore_index
    C = logits.shape[-1]
    oob = real & ((targets < 0) | (targets >= C))
    if oob.any():
        raise IndexError(f"Target {targets[oob].flatten()[0].item()} is out of bounds.")
    lp = torch.log_softmax(logits, -1)
    nll = -lp.gather(-1, targets.masked_fill(~real, 0)[..., None])[..., 0]
    w = real.to(logits.dtype)
    if per == "sequence":
        lengths = w.sum(1, keepdim=True)
        w = torch.where(lengths > 0, w / lengths.clamp(min=1), w)
    nll = nll.masked_fill(~real, 0)
    if per == "token":
        return (nll * w).sum() / w.sum()
    n_seq = (real.sum(1) > 0).sum().to(logits.dtype)
    return (nll * w).sum() / n_seq


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    out = torch.full_like(tokens, pad)
    out[:, :-1] = tokens[:, 1:]
    return out

# why: in-place ops on its own tensors; next_token_targets with a loop over positions
import torch


def sequence_cross_entropy(logits, targets, ignore_index=-100, per="token"):
    if per not in ("token", "sequence"):
        raise ValueError("per must be token or sequence, got " + str(per))
    if logits.dim() != 3 or targets.dim() != 2 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(targets.shape)} do not match")
    safe = targets.clone()
    ignored = safe == ignore_index
    invalid = ~ignored & ((safe < 0) | (safe >= logits.shape[-1]))
    if invalid.any():
        raise IndexError(f"Target {safe[invalid][0].item()} is out of bounds.")
    safe[ignored] = 0
    lp = torch.log_softmax(logits, dim=-1)
    loss = lp.gather(-1, safe.unsqueeze(-1)).squeeze(-1).neg()
    loss = loss.masked_fill(ignored, 0.0)
    keep = (~ignored).to(loss.dtype)
    if per == "token":
        return loss.sum() / keep.sum()
    count = keep.sum(1)
    has = count > 0
    means = loss.sum(1)[has]
    means /= count[has]
    return means.sum() / has.sum()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    out = tokens.new_empty(tokens.shape)
    T = tokens.shape[1]
    for t in range(T):
        out[:, t] = tokens[:, t + 1] if t + 1 < T else pad
    return out

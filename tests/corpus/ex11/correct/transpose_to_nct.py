# why: moves the classes to dimension 1 (torch's layout) and works there
import torch


def sequence_cross_entropy(logits, targets, ignore_index=-100, per="token"):
    if per not in ("token", "sequence"):
        raise ValueError(f"per must be token or sequence, not {per}")
    if logits.dim() != 3 or targets.dim() != 2 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits {tuple(logits.shape)} do not fit targets {tuple(targets.shape)}")
    nct = logits.transpose(1, 2)
    lp = nct - torch.logsumexp(nct, dim=1, keepdim=True)
    real = targets != ignore_index
    bad = real & ((targets < 0) | (targets >= logits.shape[2]))
    if bad.any():
        raise IndexError(f"Target {targets[bad][0].item()} is out of bounds.")
    safe = torch.where(real, targets, torch.zeros_like(targets))
    nll = -lp.gather(1, safe.unsqueeze(1)).squeeze(1)
    nll = torch.where(real, nll, torch.zeros_like(nll))
    if per == "token":
        return nll.sum() / real.sum()
    counts = real.sum(1)
    keep = counts > 0
    return (nll.sum(1)[keep] / counts[keep]).mean() if keep.any() else nll.sum() / real.sum()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    out = torch.full_like(tokens, pad)
    out[:, :-1] = tokens[:, 1:]
    return out

# why: log-sum-exp written by hand with the max shift; targets built with torch.cat
import torch


def sequence_cross_entropy(logits, targets, ignore_index=-100, per="token"):
    if per not in ("token", "sequence"):
        raise ValueError(f"per {per!r} is not token or sequence")
    if logits.dim() != 3 or targets.dim() != 2 or logits.shape[:2] != targets.shape:
        raise ValueError(f"(N, T, C) logits {tuple(logits.shape)} need (N, T) targets, got {tuple(targets.shape)}")
    m = logits.amax(dim=-1, keepdim=True).detach()
    lse = (logits - m).exp().sum(-1).log() + m.squeeze(-1)
    pad = targets == ignore_index
    C = logits.shape[-1]
    bad = ~pad & ((targets < 0) | (targets >= C))
    if bad.any():
        raise IndexError(f"Target {targets[bad][0].item()} is out of bounds.")
    chosen = logits.gather(-1, torch.where(pad, 0, targets).unsqueeze(-1)).squeeze(-1)
    loss = torch.where(pad, torch.zeros_like(lse), lse - chosen)
    real = (~pad).sum(dim=-1)
    if per == "token":
        return loss.sum() / real.sum()
    seq_mean = loss.sum(-1) / real
    return torch.nanmean(seq_mean) if seq_mean.numel() else loss.sum() / real.sum()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"expected 2-D tokens, got {tokens.dim()}-D")
    column = torch.full((tokens.shape[0], 1), pad, dtype=tokens.dtype, device=tokens.device)
    return torch.cat((tokens[:, 1:], column), dim=1)

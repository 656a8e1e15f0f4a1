# why: one weight per position (1/count per token, or 1/count of its sequence / number of sequences)
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
    lp = torch.log_softmax(logits, -1)
    nll = -lp.gather(-1, torch.where(real, targets, 0).unsqueeze(-1)).squeeze(-1)
    mask = real.to(lp.dtype)
    if per == "token":
        w = mask / mask.sum()
    else:
        lengths = mask.sum(1, keepdim=True)
        sequences = (lengths > 0).sum()
        w = mask / (lengths * sequences)
    w = torch.nan_to_num(w, nan=0.0, posinf=0.0) if real.any() else w
    return (torch.where(real, nll, torch.zeros_like(nll)) * w).sum() if real.any() else (nll * mask).sum() / mask.sum()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    return torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], pad)], dim=1)

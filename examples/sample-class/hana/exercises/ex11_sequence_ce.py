# my work on ex11_sequence_ce.py, version 9
"""Reference solution for exercise 11: cross-entropy over padded sequences, and the shift by one."""
import torch

PER = ("token", "sequence")


def sequence_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100,
                           per: str = "token") -> torch.Tensor:
    """Mean cross-entropy of (N, T, C) logits against (N, T) class indices, padding
    (`ignore_index`) left out: per token (torch's mean) or per sequence (the mean of each
    sequence's mean, over the sequences that have a real token)."""
    if per not in PER:
        raise ValueError(f"sequence_cross_entropy: per must be 'token' or 'sequence', not {per!r}")
    if logits.dim() != 3 or targets.dim() != 2 or logits.shape[:2] != targets.shape:
        raise ValueError(f"sequence_cross_entropy: logits must be (N, T, C) and targets (N, T); got "
                         f"logits {tuple(logits.shape)} and targets {tuple(targets.shape)}")
    classes = logits.shape[2]
    real = targets != ignore_index
    outside = real & ((targets < 0) | (targets >= classes))
    if outside.any():
        raise IndexError(f"Target {targets[outside][0].item()} is out of bounds.")
    log_probs = torch.log_softmax(logits, dim=-1)  # the classes are the LAST dimension here
    picked = log_probs.gather(-1, targets.masked_fill(~real, 0).unsqueeze(-1)).squeeze(-1)
    losses = (-picked).masked_fill(~real, 0)  # exactly 0 where padded, whatever the logits
    counts = real.sum(dim=1).to(losses.dtype)
    if per == "token":
        return losses.sum() / counts.sum()  # 0 / 0 = nan when everything is padding, as torch
    has_tokens = counts > 0
    per_sequence = losses.sum(dim=1)[has_tokens] / counts[has_tokens]
    return per_sequence.sum() / has_tokens.sum().to(losses.dtype)


def next_token_targets(tokens: torch.Tensor, pad: int) -> torch.Tensor:
    """The target of position t is the token at t + 1; the last position has none: `pad`."""
    if tokens.dim() != 2:
        raise ValueError(f"next_token_targets: tokens must be (N, T), got shape {tuple(tokens.shape)}")
    last = torch.full_like(tokens[:, :1], pad)
    return torch.cat([tokens[:, 1:], last], dim=1)

# mistake: none
# why: treats token id 0 as padding as well as ignore_index, so real targets of class 0 are dropped
import torch


def sequence_cross_entropy(logits, targets, ignore_index=-100, per="token"):
    if per not in ("token", "sequence"):
        raise ValueError(f"per must be token or sequence, not {per}")
    if logits.dim() != 3 or targets.dim() != 2 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits {tuple(logits.shape)} vs targets {tuple(targets.shape)}")
    bad = (targets != ignore_index) & ((targets < 0) | (targets >= logits.shape[-1]))
    if bad.any():
        raise IndexError(f"Target {targets[bad][0].item()} is out of bounds.")
    real = (targets != ignore_index) & (targets != 0)
    lp = torch.log_softmax(logits, dim=-1)
    nll = -lp.gather(-1, targets.masked_fill(~real, 0).unsqueeze(-1)).squeeze(-1)
    nll = nll.masked_fill(~real, 0)
    if per == "token":
        return nll.sum() / real.sum()
    counts = real.sum(1)
    has = counts > 0
    return (nll.sum(1)[has] / counts[has]).sum() / has.sum()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    return torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], pad)], dim=1)

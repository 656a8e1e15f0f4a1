# why: a Python loop over the sequences, each handled on its own
import torch


def sequence_cross_entropy(logits, targets, ignore_index=-100, per="token"):
    if per != "token" and per != "sequence":
        raise ValueError(f"unknown per={per!r}")
    if len(logits.shape) != 3 or len(targets.shape) != 2 or logits.shape[0] != targets.shape[0] \
            or logits.shape[1] != targets.shape[1]:
        raise ValueError(f"expected (N, T, C) and (N, T), got {tuple(logits.shape)} and {tuple(targets.shape)}")
    C = logits.shape[-1]
    for v in targets.flatten().tolist():
        if v != ignore_index and not 0 <= v < C:
            raise IndexError(f"Target {v} is out of bounds.")
    sums, counts = [], []
    for row_logits, row_targets in zip(logits, targets):
        mask = row_targets != ignore_index
        lp = torch.log_softmax(row_logits[mask], dim=-1)
        idx = row_targets[mask]
        sums.append(-lp[torch.arange(len(idx)), idx].sum())
        counts.append(int(mask.sum()))
    total_tokens = sum(counts)
    if per == "token":
        total = torch.stack(sums).sum() if sums else logits.sum() * 0
        return total / total_tokens if total_tokens else total * float("nan")
    means = [s / c for s, c in zip(sums, counts) if c > 0]
    if not means:
        return logits.sum() * float("nan")
    return torch.stack(means).mean()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    out = torch.full_like(tokens, pad)
    out[:, :-1] = tokens[:, 1:]
    return out

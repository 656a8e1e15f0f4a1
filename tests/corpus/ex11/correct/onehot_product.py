# why: picks the target log-probability with a one-hot product instead of gather
import torch


def sequence_cross_entropy(logits, targets, ignore_index=-100, per="token"):
    if per not in ("token", "sequence"):
        raise ValueError("per must be 'token' or 'sequence'")
    if logits.dim() != 3 or targets.dim() != 2 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits {tuple(logits.shape)} vs targets {tuple(targets.shape)}")
    C = logits.shape[-1]
    real = targets != ignore_index
    if (real & ((targets < 0) | (targets >= C))).any():
        bad = targets[real & ((targets < 0) | (targets >= C))][0]
        raise IndexError(f"Target {bad.item()} is out of bounds.")
    classes = torch.arange(C, device=logits.device)
    hot = (targets.unsqueeze(-1) == classes).to(logits.dtype)
    nll = -(hot * torch.log_softmax(logits, dim=-1)).sum(-1)
    nll = nll * real.to(logits.dtype)
    if per == "token":
        return nll.sum() / real.sum().to(logits.dtype)
    per_seq_count = real.sum(-1)
    used = per_seq_count > 0
    per_seq = nll.sum(-1)[used] / per_seq_count[used].to(logits.dtype)
    return per_seq.sum() / used.sum().to(logits.dtype)


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    out = torch.full_like(tokens, pad)
    out[:, :-1] = tokens[:, 1:]
    return out

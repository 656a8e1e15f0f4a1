# why: float16 and bfloat16 computed in float32 and cast back at the end
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
    work = logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits
    lp = torch.log_softmax(work, dim=-1)
    nll = -lp.gather(-1, targets.masked_fill(~real, 0).unsqueeze(-1)).squeeze(-1)
    nll = nll.masked_fill(~real, 0)
    if per == "token":
        out = nll.sum() / real.sum()
    else:
        counts = real.sum(1)
        ok = counts > 0
        out = (nll.sum(1)[ok] / counts[ok]).mean() if ok.any() else nll.sum() / real.sum()
    return out.to(logits.dtype)


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    return torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], pad)], dim=1)

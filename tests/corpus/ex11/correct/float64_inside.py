# why: computes in float64 and casts back; next_token_targets with torch.roll and a fix-up
import torch


def sequence_cross_entropy(logits, targets, ignore_index=-100, per="token"):
    if per not in {"token", "sequence"}:
        raise ValueError(f"per={per}")
    if logits.dim() != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(f"bad shapes: logits {tuple(logits.shape)}, targets {tuple(targets.shape)}")
    x = logits.double()
    lp = x - x.logsumexp(-1, keepdim=True)
    real = targets.ne(ignore_index)
    wrong = real & (targets.lt(0) | targets.ge(x.shape[-1]))
    if wrong.any():
        raise IndexError("Target %d is out of bounds." % targets[wrong][0].item())
    picked = lp.gather(2, targets.clamp(0, x.shape[-1] - 1).unsqueeze(2)).squeeze(2)
    loss = -(picked * real)
    if per == "token":
        out = loss.sum() / real.sum()
    else:
        n = real.sum(1).double()
        ok = n > 0
        out = (loss.sum(1)[ok] / n[ok]).sum() / ok.sum()
    return out.to(logits.dtype)


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError("tokens must be 2-D (N, T), got " + str(tuple(tokens.shape)))
    rolled = torch.roll(tokens, shifts=-1, dims=1)
    if tokens.shape[1] > 0:
        rolled[:, -1] = pad
    return rolled

# why: per-sequence sums and counts with scatter_add over a flat index; narrow and new_full for the shift
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
    N, T, C = logits.shape
    lp = torch.log_softmax(logits.reshape(-1, C), dim=-1)
    flat_t = targets.reshape(-1).masked_fill(~real.reshape(-1), 0)
    nll = -lp[torch.arange(N * T, device=logits.device), flat_t]
    nll = nll * real.reshape(-1).to(nll.dtype)
    if per == "token":
        return nll.sum() / real.sum()
    seq = torch.arange(N, device=logits.device).repeat_interleave(T)
    sums = torch.zeros(N, dtype=nll.dtype, device=nll.device).scatter_add(0, seq, nll)
    counts = torch.zeros(N, dtype=nll.dtype, device=nll.device).scatter_add(0, seq, real.reshape(-1).to(nll.dtype))
    used = counts > 0
    return (sums[used] / counts[used]).sum() / used.sum()


def next_token_targets(tokens, pad):
    if tokens.dim() != 2:
        raise ValueError("tokens must be (N, T)")
    out = tokens.new_full(tokens.shape, pad)
    T = tokens.shape[1]
    if T > 1:
        out.narrow(1, 0, T - 1).copy_(tokens.narrow(1, 1, T - 1))
    return out

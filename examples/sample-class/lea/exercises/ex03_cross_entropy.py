# my work on ex03_cross_entropy.py, version 3
"""Reference solution for exercise 03: log-softmax and cross-entropy with class indices."""
import torch

REDUCTIONS = ("mean", "sum", "none")


def log_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """log(softmax(logits)) along `dim`, without overflow: subtract the maximum first.

    x - log(sum(exp(x))) equals (x - m) - log(sum(exp(x - m))) for any m; with m the
    maximum, every exp() is at most 1 and the sum is at least 1, so nothing overflows and
    the log never sees 0.
    """
    work = logits
    if logits.dtype in (torch.float16, torch.bfloat16):
        work = logits.float()  # as torch does: accumulate half precision in float32
    shifted = work - work.amax(dim=dim, keepdim=True).detach()
    out = shifted - shifted.exp().sum(dim=dim, keepdim=True).log()
    return out.to(logits.dtype)


def cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Cross-entropy with class-index targets, as `F.cross_entropy`.

    logits: (N, C) with target (N,), or (C,) with a 0-d target.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {REDUCTIONS}, not {reduction!r}")
    if logits.dim() == 1:
        if target.dim() != 0:
            raise ValueError(
                f"cross_entropy: (C,) logits need a 0-d target, got shape {tuple(target.shape)}"
            )
    elif logits.dim() == 2:
        if target.dim() != 1 or target.shape[0] != logits.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({logits.shape[0]}) to match target batch_size "
                f"({target.shape[0] if target.dim() else 0})."
            )
    else:
        raise ValueError(
            f"cross_entropy: logits must be (N, C) or (C,), got shape {tuple(logits.shape)}"
        )
    if target.dtype not in (torch.int64, torch.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype}")
    num_classes = logits.shape[-1]
    target = target.long()
    bad = (target < 0) | (target >= num_classes)
    if bad.any():
        raise IndexError(f"Target {target[bad].flatten()[0].item()} is out of bounds.")
    log_probs = log_softmax(logits, dim=-1)  # (N, C) or (C,)
    losses = -log_probs.gather(-1, target.unsqueeze(-1)).squeeze(-1)  # target's shape
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses

# why: normalises with rsqrt and multiplies by a logit scale of 1 / T, as CLIP's code does
"""ex12: a learner's submission (verdict corpus)."""
import torch

def _check(a, b, temperature):
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError(f"a and b must be 2-D, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")


def info_nce(a, b, temperature=0.07):
    _check(a, b, temperature)
    a = a * torch.rsqrt((a * a).sum(dim=1, keepdim=True))
    b = b * torch.rsqrt((b * b).sum(dim=1, keepdim=True))
    logit_scale = 1.0 / temperature
    logits_per_image = logit_scale * a @ b.t()
    logits_per_text = logits_per_image.t()
    n = torch.arange(logits_per_image.shape[0], device=a.device)
    li = logits_per_image.logsumexp(dim=1) - logits_per_image[n, n]
    lt = logits_per_text.logsumexp(dim=1) - logits_per_text[n, n]
    return (li.mean() + lt.mean()) / 2

# why: the matrix of cosines from F.cosine_similarity with broadcasting; columns by dim=0
"""ex12: a learner's submission (verdict corpus)."""
import torch
import torch.nn.functional as F

def _check(a, b, temperature):
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError(f"a and b must be 2-D, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")


def info_nce(a, b, temperature=0.07):
    _check(a, b, temperature)
    sim = F.cosine_similarity(a[:, None, :], b[None, :, :], dim=-1) / temperature
    idx = torch.arange(sim.shape[0], device=sim.device)
    image_to_text = -F.log_softmax(sim, dim=1)[idx, idx].mean()
    text_to_image = -F.log_softmax(sim, dim=0)[idx, idx].mean()
    return 0.5 * (image_to_text + text_to_image)

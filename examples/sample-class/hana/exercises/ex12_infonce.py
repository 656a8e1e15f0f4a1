# my work on ex12_infonce.py, version 2
"""Reference solution for exercise 12: the contrastive InfoNCE loss, CLIP style."""
import torch


def _cross_entropy_of_the_diagonal(logits: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of an (N, N) matrix's rows, each row's label being its own index:
    -log softmax(row i)[i] = logsumexp(row i) - row i [i], exact for any size of logits."""
    return (torch.logsumexp(logits, dim=1) - logits.diagonal()).mean()


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    """CLIP's symmetric InfoNCE: (CE(S, arange) + CE(S^T, arange)) / 2 with
    S = normalize(a) @ normalize(b)^T / temperature."""
    if a.dim() != 2 or a.shape != b.shape:
        raise ValueError(
            f"info_nce: a and b must be 2-D of the same shape (N, D), one pair per row; "
            f"got a {tuple(a.shape)} and b {tuple(b.shape)}"
        )
    if not temperature > 0:  # written so that nan is refused too
        raise ValueError(f"info_nce: temperature must be > 0, got {temperature}")
    # L2-normalise each row, as F.normalize does (its norm floored at 1e-12).
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)
    b = b / b.norm(dim=1, keepdim=True).clamp_min(1e-12)
    logits = a @ b.T / temperature  # cosine similarities, sharpened by the temperature
    # Row i of S scores a_i against every b; column i scores b_i against every a.
    return (_cross_entropy_of_the_diagonal(logits) + _cross_entropy_of_the_diagonal(logits.T)) / 2

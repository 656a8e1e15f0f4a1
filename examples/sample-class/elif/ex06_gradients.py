# my work on ex06_gradients.py, version 5
"""Reference solution for exercise 06: gradients of three mean-reduced losses, by hand."""
import torch


def mse_grad(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d/d input of mean((input - target)**2) = 2 (input - target) / n."""
    if input.shape != target.shape:
        raise ValueError(
            f"mse_grad: input shape {tuple(input.shape)} and target shape "
            f"{tuple(target.shape)} differ"
        )
    return 2 * (input - target) / input.numel()


def _softmax(logits: torch.Tensor) -> torch.Tensor:
    shifted = logits - logits.amax(dim=-1, keepdim=True)  # largest exp() is exp(0) = 1
    exps = shifted.exp()
    return exps / exps.sum(dim=-1, keepdim=True)


def cross_entropy_grad(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d/d logits of mean cross-entropy = (softmax(logits) - one_hot(target)) / N.

    logits (N, C) with target (N,), or (C,) with a 0-d target (then N = 1).
    """
    if logits.dim() == 1:
        if target.dim() != 0:
            raise ValueError("cross_entropy_grad: (C,) logits need a 0-d target")
        return cross_entropy_grad(logits.unsqueeze(0), target.unsqueeze(0)).squeeze(0)
    if logits.dim() != 2 or target.shape != logits.shape[:1]:
        raise ValueError(
            f"cross_entropy_grad: expected logits (N, C) and target (N,), got "
            f"{tuple(logits.shape)} and {tuple(target.shape)}"
        )
    num_samples, num_classes = logits.shape
    target = target.long()
    outside = (target < 0) | (target >= num_classes)
    if outside.any():
        raise IndexError(f"Target {target[outside][0].item()} is out of bounds.")
    grad = _softmax(logits)  # (N, C)
    rows = torch.arange(num_samples, device=logits.device)
    grad[rows, target] -= 1  # subtract the one-hot row of every sample
    return grad / num_samples


def bce_with_logits_grad(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d/d input of mean BCE-with-logits = (sigmoid(input) - target) / n."""
    if input.shape != target.shape:
        raise ValueError(
            f"bce_with_logits_grad: target shape {tuple(target.shape)} differs from input "
            f"shape {tuple(input.shape)}"
        )
    return (torch.sigmoid(input) - target) / input.numel()

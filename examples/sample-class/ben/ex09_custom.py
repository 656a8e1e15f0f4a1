# my work on ex09_custom.py, version 4
"""Exercise 09: a custom loss, and a loss with a hand-written backward.

Part 1, focal loss. Cross-entropy charges every sample -log p, with p the probability the
model gave the true class. When most samples are easy (p near 1), their many small losses
can still outweigh the few hard ones the model should be learning from. Focal loss turns
the easy ones down by a factor (1 - p) ** gamma:

    FL_n = -alpha[t_n] * (1 - p_n) ** gamma * log p_n,   p_n = softmax(input_n)[t_n]

With gamma = 2: a sample at p = 0.9 costs 0.105 under cross-entropy but (0.1 ** 2) * 0.105
= 0.00105 under focal loss, 100 times less; one at p = 0.55 costs 0.598 and 0.121, 5 times
less; a hard one at p = 0.1 costs 2.303 and 1.865, barely less. With gamma = 0 and no alpha,
focal loss is cross-entropy exactly. `alpha`, if given, is a (C,) tensor of per-class
weights that scales each sample's loss; "mean" still divides by the number of samples (the
weights do not normalise, unlike F.cross_entropy's `weight`), as torchvision's
`sigmoid_focal_loss` does. Compute log p_n stably: logits can be +-1e4.

Part 2, autograd.Function. `loss.backward()` works because every torch operation knows its
own derivative. You can teach torch a new operation by subclassing
`torch.autograd.Function` with two static methods: `forward(ctx, ...)` computes the result
and stores on `ctx` what the gradient will need (`ctx.save_for_backward(...)`);
`backward(ctx, grad_output)` returns one gradient per input of forward (None for an input
that has no gradient, such as class indices), each multiplied by `grad_output`, the
gradient of the final result with respect to this operation's output. Write mean
cross-entropy this way; ex06's `cross_entropy_grad` is the formula you need.
`torch.autograd.gradcheck` compares your backward with finite differences in float64.

You may not call F.cross_entropy, F.nll_loss or the loss modules.

Run `lossgrade check ex09` to test your work, `lossgrade hint ex09` when stuck.
"""
from typing import Any, Optional

import torch


def focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    gamma: float = 2.0,
    alpha: Optional[torch.Tensor] = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Multi-class focal loss on logits.

    Args:
        input: logits, shape (N, C).
        target: int64 class indices, shape (N,), each in [0, C).
        gamma: the focusing exponent, >= 0; 0 gives cross-entropy.
        alpha: optional (C,) weight per class; None means 1 for every class.
        reduction: "mean" (average over the N samples), "sum" or "none" (shape (N,)).

    Returns:
        A tensor with the input's dtype, finite for logits up to +-1e4.

    Raises:
        ValueError: if `reduction` is not "mean", "sum" or "none".
        IndexError: if a target is outside [0, C).
    """
    # TODO: log p_n of each sample's true class, then the focal factor and alpha; reduce.
    raise NotImplementedError("ex09: focal_loss is not written yet")


class CrossEntropyFunction(torch.autograd.Function):
    """Mean cross-entropy of (N, C) logits against (N,) class indices, with a backward
    written by hand. Use it as `CrossEntropyFunction.apply(logits, target)`."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return the 0-d mean cross-entropy; save what backward will need on `ctx`."""
        # TODO: a stable log_softmax, the mean of -log p at each true class; save tensors.
        raise NotImplementedError("ex09: CrossEntropyFunction.forward is not written yet")

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor):
        """Return (gradient for logits, None for target)."""
        # TODO: (softmax - one_hot) / N, times grad_output.
        raise NotImplementedError("ex09: CrossEntropyFunction.backward is not written yet")

# my work on ex14_gaussian_nll.py, version 9
"""Exercise 14: the Gaussian negative log-likelihood, a loss that predicts its own uncertainty.

MSE asks a model for one number per target. A model that also says how sure it is
predicts two: a mean `input` and a variance `var` (var = sigma ** 2, the square of the
standard deviation, not the standard deviation itself). The loss is the negative log of
the Gaussian density of the target, without its constant:

    loss = 0.5 * (log(var) + (input - target) ** 2 / var)

Both halves matter. The squared error is divided by var, so a wide variance makes a
miss cheap; log(var) makes a wide variance cost something, so the model cannot escape by
declaring everything uncertain. Worked example: input [2.0, 0.5, 1.0], target
[1.0, 0.5, 3.0] and var [0.25, 1.0, 4.0] give the losses [1.3069, 0.0, 1.1931], mean
0.8333. An error of 3 costs 1.8181 with var 4 (sigma 2), but 2.5966 if the standard
deviation 2 is passed as var by mistake.

Unlike most losses, this one can be negative: a right prediction (error 0) with var 0.01
costs 0.5 * log(0.01) = -2.3026. A density can be larger than 1, so its negative log can
be below 0; the lower the better, with no floor at 0.

`full=True` adds the constant 0.5 * log(2 * pi) = 0.9189 to every element, giving the
exact negative log-density: the worked example's mean becomes 1.7523. It moves the loss,
never its gradient.

Stability: a var of 0 would make log(var) -inf. Every var is first raised to at least
`eps` (default 1e-6, use the argument), so var 0 and error 0.1 cost 4993.09. But the
raising must not cut the gradient: torch clamps a copy of var under `torch.no_grad()`,
so the loss uses the clamped value while the gradient flows to var as if nothing had
been clamped. For var 1e-8 and error 0.1 the gradient with respect to var is about
-5e9, where `torch.clamp(var, min=eps)` would give 0 and the model would never learn to
raise a variance stuck below eps. (Adding eps to var, var + eps, is not the same either.)

Shapes. `target` broadcasts against `input`, as in torch. `var` may be:
  - a tensor of the input's shape: one variance per element (heteroscedastic);
  - the input's shape without its last dimension, e.g. (N,) for an (N, D) input: one
    variance per row, shared by the D values of that row (unsqueeze it to (N, 1) first:
    (N,) against (N, D) broadcasts along the wrong dimension, or not at all);
  - the input's number of dimensions with exactly one dimension of size 1 where the
    input's is larger, e.g. (N, 1) for (N, D) or (N, 1, H, W) for (N, C, H, W): shared
    along that dimension;
  - a Python float: one variance for everything.
Anything else raises ValueError, even when torch could broadcast it: (D,) or (1, 1) for
an (N, D) input, or a 0-d tensor for a 2-D input.

Refusals, as torch's: ValueError for any negative variance (the log of a negative number
is nan; a variance is never below 0), for a var of a wrong shape, and for a `reduction`
other than "mean", "sum" or "none". "mean" averages every element of the loss (not the
rows), "sum" adds them, "none" returns them in the broadcast input's shape. The result
keeps the input's dtype and device.

This behaves like `torch.nn.functional.gaussian_nll_loss`, which you may not call, nor
`torch.nn.GaussianNLLLoss`.

Run `lossgrade check ex14` to test your work, `lossgrade hint ex14` when stuck.
"""
from typing import Union

import torch


def gaussian_nll_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    var: Union[torch.Tensor, float],
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> torch.Tensor:
    """Gaussian negative log-likelihood, like `F.gaussian_nll_loss`.

    Args:
        input: the predicted means, any shape.
        target: the observed values; broadcasts against `input`.
        var: the predicted variances (not standard deviations), >= 0: a tensor of the
            input's shape, of the input's shape without its last dimension, or with one
            dimension of size 1; or a Python float.
        full: add the constant 0.5 * log(2 * pi) to every element.
        eps: the smallest variance used in the loss; the gradient still flows to var.
        reduction: "mean", "sum" or "none".

    Returns:
        A tensor with the input's dtype, on the input's device.

    Raises:
        ValueError: for a negative variance, a var of a shape that does not fit, or an
            unknown reduction.
    """
    # TODO: validate var (sign, then shape) and reduction; clamp a copy of var outside
    # autograd; compute 0.5 * (log(var) + (input - target) ** 2 / var); add the constant
    # when full; reduce.
    raise NotImplementedError("ex14: gaussian_nll_loss is not written yet")

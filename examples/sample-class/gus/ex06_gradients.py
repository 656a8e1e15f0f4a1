# my work on ex06_gradients.py, version 9
"""Exercise 06: the gradients of three losses, by hand.

`loss.backward()` is the "diagnose" step of training: it works out, for every number that
went into the loss, how much the loss would change if that number moved a little. Here you
compute that by hand for the three losses of this course, each reduced with "mean" over its
n elements (N samples for cross-entropy), with respect to its first argument:

    MSE                  d/d input_i   = 2 * (input_i - target_i) / n
    cross-entropy        d/d logits_nc = (softmax(logits_n)_c - onehot(t_n)_c) / N
    BCE with logits      d/d input_i   = (sigmoid(input_i) - target_i) / n

Read them as "prediction minus truth, scaled": the gradient points the way that would grow
the loss, so gradient descent moves every score against it, hardest where the model is most
wrong.

Worked examples.
  * MSE, predictions [2.5, 3.1, 4.8] against [2.0, 3.0, 5.0]: 2 * [0.5, 0.1, -0.2] / 3 =
    [0.333, 0.067, -0.133]. The third prediction is too low, so its gradient is negative:
    gradient descent will raise it.
  * Cross-entropy, logits [2.0, 1.0, 0.1] (shape (C,)) with target 0: softmax is
    [0.659, 0.242, 0.099], minus the one-hot row [1, 0, 0]: [-0.341, 0.242, 0.099]. The true
    class is pulled up, the others pushed down, and each row sums to 0.
  * BCE with logits [2.0, -1.0, 0.0] and labels [1, 0, 1]: (sigmoid - y) / 3 =
    [-0.040, 0.090, -0.167].

Your results must equal what autograd computes, also for logits of +-1e4 (no nan). You may
not ask autograd: torch.autograd.grad, Tensor.backward and Tensor.requires_grad_ are not
allowed here.

Run `lossgrade check ex06` to test your work, `lossgrade hint ex06` when stuck.
"""
import torch


def mse_grad(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The gradient of mean((input - target) ** 2) with respect to `input`.

    Args:
        input: predictions, any shape.
        target: true values, the same shape.

    Returns:
        A tensor of the input's shape and dtype.

    Raises:
        ValueError: if the shapes differ.
    """
    # TODO: one line of arithmetic; do not forget the 1/n of the mean.
    raise NotImplementedError("ex06: mse_grad is not written yet")


def cross_entropy_grad(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The gradient of mean cross-entropy (class-index targets) with respect to `logits`.

    Args:
        logits: (N, C) raw scores, or (C,) for one sample.
        target: (N,) int64 class indices in [0, C), or a 0-d tensor for (C,) logits.

    Returns:
        A tensor of the logits' shape and dtype, finite for logits up to +-1e4.

    Raises:
        IndexError: if a target is outside [0, C) ("Target 5 is out of bounds.").
    """
    # TODO: a stable softmax, minus 1 at each sample's true class, divided by N.
    raise NotImplementedError("ex06: cross_entropy_grad is not written yet")


def bce_with_logits_grad(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The gradient of mean BCE-with-logits with respect to the logits `input`.

    Args:
        input: logits, any shape.
        target: labels, the same shape.

    Returns:
        A tensor of the input's shape and dtype, finite for logits up to +-1e4.

    Raises:
        ValueError: if the shapes differ.
    """
    # TODO: sigmoid of the logits minus the labels, over n.
    raise NotImplementedError("ex06: bce_with_logits_grad is not written yet")

# my work on ex02_l1_huber.py, version 3
"""Exercise 02: mean error, L1 and Huber losses, from scratch.

Why not just average the errors? A delivery model predicts 6 minutes where the trip took 4,
and 3 minutes where it took 5. Its errors (input - target) are +2 and -2, and their mean is
0: a perfect score for a model that was wrong both times. `mean_error` computes that
misleading number so that you can see it happen.

Two losses fix it by making every error count, whatever its sign:

    L1 (mean absolute error):  |d|                           with d = input - target
    Huber (threshold delta):   0.5 * d**2                    where |d| <  delta
                               delta * (|d| - 0.5 * delta)   where |d| >= delta

L1 grows in a straight line: its slope is 1 whatever the size of the error, so a wild
outlier pulls on the model no harder than any other wrong prediction. Huber is quadratic
like MSE for small errors (smooth near 0, gentle on tiny mistakes) and linear like L1 for
large ones (robust to outliers); the two pieces meet at |d| = delta.

Worked examples.
  * Predictions [6, 3] against [4, 5]: mean error 0.0, L1 2.0, Huber (delta=1) 1.5 per
    element: 1 * (2 - 0.5), so 1.5 on average. (MSE would say 4.0.)
  * Predictions [2.5, 0.0, 2.1, 7.8] against [3.0, -0.5, 2.0, 7.0]: |d| = [0.5, 0.5, 0.1,
    0.8], so L1 is 1.9 / 4 = 0.475; every |d| is below 1, so Huber (delta=1) is the mean of
    0.5 * d**2 = 0.14375. With delta=0.3 the three larger errors use the linear piece:
    [0.105, 0.105, 0.005, 0.195], mean 0.1025.
  * Add a third prediction of 40 minutes for a 10-minute trip to the first example: MSE
    jumps to 302.7, L1 is 11.3 and Huber 10.8. The outlier is most of every one of those
    values (99% of MSE, 88% of L1, 91% of Huber): robustness is not in the loss value. It
    is in the gradient, which is what moves the model: the outlier gets 88% of MSE's
    gradient but 33% of L1's or Huber's, the same pull as each ordinary error.

`l1_loss` and `huber_loss` behave like `torch.nn.functional.l1_loss` and
`torch.nn.functional.huber_loss`: same shapes, dtypes and reductions. (Like torch, they
broadcast an input and a target of different shapes, where torch adds a UserWarning; ex01
showed why you should not rely on that. Your version does not have to warn.)

Run `lossgrade check ex02` to test your work, `lossgrade hint ex02` when stuck.
"""
import torch


def mean_error(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The signed mean of `input - target`, where errors of opposite sign cancel out.

    Args:
        input: predictions, any shape.
        target: true values, the same shape as `input`.

    Returns:
        A 0-d tensor: positive when the predictions are too high on average, negative when
        too low, and 0 when over- and under-estimates balance (even if none is right).

    Raises:
        ValueError: if the shapes differ (name both shapes in the message).
    """
    # TODO: compare the shapes, then average the signed errors.
    raise NotImplementedError("ex02: mean_error is not written yet")


def l1_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean absolute error, like `torch.nn.functional.l1_loss`.

    Args:
        input: predictions, any shape.
        target: true values, the same shape as `input`.
        reduction: "mean" (the average), "sum" (the total) or "none" (the absolute error of
            every element, in the input's shape).

    Returns:
        A tensor with the input's dtype.

    Raises:
        ValueError: if `reduction` is not one of the three above.
    """
    # TODO: validate `reduction`, take the absolute errors, then reduce them.
    raise NotImplementedError("ex02: l1_loss is not written yet")


def huber_loss(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0
) -> torch.Tensor:
    """Huber loss, like `torch.nn.functional.huber_loss`.

    Quadratic (0.5 * d**2) where the absolute error |d| is below `delta`, linear
    (delta * (|d| - 0.5 * delta)) from `delta` on; at exactly |d| == delta use the linear
    piece (both give the same value there).

    Args:
        input: predictions, any shape.
        target: true values, the same shape as `input`.
        reduction: "mean", "sum" or "none", as in `l1_loss`.
        delta: where the quadratic piece hands over to the linear one; must be > 0.

    Returns:
        A tensor with the input's dtype.

    Raises:
        ValueError: if `reduction` is not one of the three names, or if `delta` <= 0
            (torch raises RuntimeError there; this course asks for ValueError).
    """
    # TODO: validate `reduction` and `delta`, compute both pieces, pick one per element.
    raise NotImplementedError("ex02: huber_loss is not written yet")

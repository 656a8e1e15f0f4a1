"""Exercise 01: mean squared error, from scratch.

A regression model predicts numbers (a delivery time in minutes, a price). The loss tells
it how far off it is, as one number. Mean squared error squares each error, so that a
prediction 2 minutes too late and one 2 minutes too early do not cancel out, and large
mistakes cost more than small ones:

    mse = mean((input - target) ** 2)

Worked example: predictions [2.5, 0.0, 2.1, 7.8] against targets [3.0, -0.5, 2.0, 7.0]
have errors [-0.5, 0.5, 0.1, 0.8], squared [0.25, 0.25, 0.01, 0.64], whose mean is
1.15 / 4 = 0.2875. (Some tutorials print 0.2275 for this example: work it out by hand and
trust your arithmetic, and `lossgrade check`, over a printed number.)

Your function must behave like `torch.nn.functional.mse_loss`, with one deliberate
difference: torch broadcasts an (N, 1) input against an (N,) target into an (N, N) matrix
of errors, with nothing but a UserWarning that is easy to miss (a classic bug that trains a
model on nonsense). Yours refuses.

Run `lossgrade check ex01` to test your work, `lossgrade hint ex01` when stuck.
"""
import torch


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean squared error between `input` and `target`.

    Args:
        input: predictions, any shape.
        target: true values, the same shape as `input`.
        reduction: "mean" (one number, the average), "sum" (one number, the total) or
            "none" (the squared error of every element, in the input's shape).

    Returns:
        A tensor with the input's dtype, on the input's device.

    Raises:
        ValueError: if the shapes differ (name both shapes in the message), or if
            `reduction` is not one of the three above.
    """
    # TODO: check the shapes and the reduction, then compute the squared errors and reduce them.
    raise NotImplementedError("ex01: mse_loss is not written yet")

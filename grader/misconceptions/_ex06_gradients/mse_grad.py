"""Mistakes learners make deriving MSE's gradient by hand (`mse_grad`): the 1/n, the 2,
the sign, the shape.
"""
from __future__ import annotations

from lossgrade.misconceptions import Mistake, upcast
from lossgrade.misconceptions._ex06_gradients import _elementwise

MISCONCEPTIONS = [
    Mistake(
        id="ex06.mse-gradient-of-sum", function="mse_grad",
        name="Left out the 1/n of the mean (that is the gradient of the sum)",
        message="Your mse_grad is 2 * (input - target) without dividing by the number of elements: the "
                "gradient of the summed loss. The loss averages over n elements, so each element's share of "
                "the gradient is divided by n too; otherwise the gradient, and with plain SGD the step, grows with the batch.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_elementwise(lambda input, target: 2 * (input - target)),
    ),
    Mistake(
        id="ex06.mse-missing-two", function="mse_grad",
        name="Dropped the 2 that the square brings down",
        message="Your mse_grad is exactly half of the right gradient. The derivative of d ** 2 is 2 * d: the "
                "1/2 that tidies this away belongs to some textbooks' loss, not to torch's mse_loss.",
        quiz="loss-scales#squared-big-errors",
        wrong=_elementwise(lambda input, target: (input - target) / input.numel()),
    ),
    Mistake(
        id="ex06.mse-sign-flipped", function="mse_grad",
        name="Flipped the sign: differentiated with respect to the target",
        message="Your mse_grad points the opposite way: it is the gradient with respect to `target`, "
                "(target - input) scaled. A prediction that is too high must get a positive gradient, so that "
                "gradient descent (which subtracts it) lowers it.",
        quiz="training-step#learning-rate-too-high",
        wrong=_elementwise(lambda input, target: 2 * (target - input) / input.numel()),
    ),
    Mistake(
        id="ex06.mse-divided-by-rows", function="mse_grad",
        name="Divided by the number of rows instead of the number of elements",
        message="Your mse_grad divides by input.shape[0] (or len(input)), the number of rows. The mean in "
                "mse_loss runs over every element of the tensor, so for an (N, M) input each element's share is "
                "divided by N * M; the two agree only for 1-D inputs.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_elementwise(lambda input, target: 2 * (input - target) / input.shape[0]),
    ),
    Mistake(
        id="ex06.mse-averaged-the-gradient", function="mse_grad",
        name="Averaged the gradient into one number",
        message="Your mse_grad returns a single number, the mean of 2 * (input - target). The gradient has one "
                "entry per input element (the input's shape): each element's 2 * (input_i - target_i) divided "
                "by n, with nothing added up.",
        quiz="loss-scales#sum-vs-mean",
        wrong=_elementwise(lambda input, target: (2 * (input - target)).mean()),
    ),
    Mistake(
        id="ex06.no-shape-check", function="mse_grad",
        name="Did not refuse inputs of different shapes",
        message="Your gradient function computed a result for an (N, 1) input against (N,) labels: broadcasting "
                "turned them into an (N, N) grid, a gradient for a loss nobody meant. Compare input.shape with "
                "target.shape first and raise ValueError when they differ.",
        quiz="targets#target-shape",
        wrong=lambda input, target: 2 * (input - target) / input.numel(),
    ),
    upcast("ex06", "mse_grad", _elementwise(lambda input, target: 2 * (input - target) / input.numel())),
]

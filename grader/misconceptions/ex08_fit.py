"""Mistakes learners make fitting a regressor and a classifier, named from what the
returned model does on held-out data (see `checks/ex08_fit.py`)."""
from __future__ import annotations

from lossgrade.misconceptions import Mistake

PROBABILITIES = "ex08.probabilities-not-logits"
PREDICTS_THE_MEAN = "ex08.predicts-the-mean"

MISCONCEPTIONS = [
    Mistake(
        id=PROBABILITIES, function="",
        name="The classifier's forward returns probabilities, not logits",
        message="Every row of your model's output is between 0 and 1 and adds up to 1: forward ends in a "
                "softmax. nn.CrossEntropyLoss applies log-softmax itself, so training saw a softmax of a softmax, "
                "whose nearly flat rows give weak gradients. Return the last Linear layer's raw scores; apply "
                "softmax only where a person needs probabilities.",
        quiz="logits#classifier-returns-logits",
    ),
    Mistake(
        id=PREDICTS_THE_MEAN, function="",
        name="The regression model predicts about the average for every input",
        message="A model that gives nearly the same answer for every distance has learned only the average time. "
                "Raw inputs of 1 to 20 km and targets of about 8 to 55 minutes make the gradients lopsided, so with a "
                "small learning rate or few steps training stalls there. Standardise x and y (keep their means "
                "and standard deviations inside the model), or use Adam, and train for a few hundred steps while "
                "watching the loss fall.",
        quiz="loss-scales#mse-units",
    ),
]

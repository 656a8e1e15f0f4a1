"""Mistakes learners make fitting a regressor and a classifier, named from what the
returned model does on held-out data (see `checks/ex08_fit.py`)."""
from __future__ import annotations

from lossgrade.misconceptions import Mistake

PROBABILITIES = "ex08.probabilities-not-logits"
PREDICTS_THE_MEAN = "ex08.predicts-the-mean"
STILL_STANDARDISED = "ex08.output-still-standardised"
BARELY_TRAINED = "ex08.barely-trained"
DIVERGED = "ex08.diverged"
OUTPUT_SHAPE = "ex08.output-shape"
NOT_A_MODULE = "ex08.returned-not-a-model"
CLASS_INDICES = "ex08.returns-class-indices"
ONE_OUTPUT = "ex08.one-output-for-classes"
SQUASHED = "ex08.squashed-outputs"
ONE_CLASS = "ex08.one-class-for-everything"
STOPPED_TOO_EARLY = "ex08.stopped-too-early"
BATCH_STATISTICS = "ex08.batch-statistics"
FIXED_CLASSES = "ex08.fixed-class-count"

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
        name="The regression model predicts about the average time for every input",
        message="A model that gives nearly the same answer for every distance has learned only the average time. "
                "On raw inputs of 1 to 20 km and targets of about 8 to 55 minutes the gradients are lopsided, and "
                "with a small learning rate or few steps training stalls there: standardise x and y (keeping their "
                "means and standard deviations inside the model) or use Adam. On data already standardised, the "
                "model stopped too early: train for a few hundred steps while watching the loss fall.",
        quiz="loss-scales#mse-units",
    ),
    Mistake(
        id=STILL_STANDARDISED, function="",
        name="The regression model's output is still standardised, not in minutes",
        message="Your model learned the standardised times well, but its forward returns them as they are: "
                "numbers around 0 with a spread of about 1. Predictions must be in minutes, so forward has to "
                "undo the standardisation of y: multiply by the training times' std and add their mean, both "
                "kept inside the model.",
        quiz="loss-scales#mse-units",
    ),
    Mistake(
        id=BARELY_TRAINED, function="",
        name="The regression model barely moved from where it started",
        message="Your model's predictions hardly change with the distance and are far from any delivery time: "
                "it is close to its random start. Too few steps, a learning rate far too small, or an optimizer "
                "that never steps the model's parameters do this. Print the loss every 50 steps and watch it "
                "fall.",
        quiz="training-step#learning-rate-too-high",
    ),
    Mistake(
        id=DIVERGED, function="",
        name="Training diverged to nan or inf",
        message="Your model's output holds nan or inf. With raw distances of up to 20 km and times of up to 60 "
                "minutes, plain SGD's steps overshoot and grow until they overflow. Lower the learning rate, "
                "standardise x and y (keeping the statistics inside the model), or use Adam, and watch the loss.",
        quiz="training-step#learning-rate-too-high",
    ),
    Mistake(
        id=OUTPUT_SHAPE, function="",
        name="The regression model returns an (M,) vector, not an (M, 1) column",
        message="Your model's forward squeezes away the last dimension. Trained with an (N,) output against (N, 1) "
                "targets, MSE broadcasts into an (N, N) table of every prediction minus every time (torch "
                "warns), and the model learns the average. Keep the (M, 1) shape of nn.Linear(..., 1).",
        quiz="targets#target-shape",
    ),
    Mistake(
        id=NOT_A_MODULE, function="",
        name="Returned something other than the trained nn.Module",
        message="fit_regression and fit_classifier return the trained model itself: the checks call it on "
                "held-out data. Return the nn.Module (`return model`), not its predictions, its loss, its "
                "optimizer or a tuple.",
        quiz="training-step#train-vs-heldout",
    ),
    Mistake(
        id=CLASS_INDICES, function="",
        name="The classifier's forward returns class indices (argmax), not logits",
        message="Your classifier's forward returns integers, the predicted classes. It should return one logit "
                "per class, a float (M, C) tensor: cross-entropy trains on those scores, and whoever needs the "
                "class takes the argmax.",
        quiz="logits#argmax-without-softmax",
    ),
    Mistake(
        id=ONE_OUTPUT, function="",
        name="The classifier has one output instead of one logit per class",
        message="Your classifier returns one number per image, as a regression would (treating the class as a "
                "quantity, e.g. with MSE). Classes are categories: the last layer has num_classes outputs, one "
                "logit each, trained with cross-entropy on the integer labels.",
        quiz="choosing-a-loss#mse-for-classification",
    ),
    Mistake(
        id=SQUASHED, function="",
        name="The classifier's forward ends in a sigmoid: outputs squashed into [0, 1]",
        message="Every output of your classifier is between 0 and 1, so forward ends in a sigmoid (or similar). "
                "Logits are raw scores of any size; cross-entropy applies its own softmax, and squashed scores "
                "give it small, slow gradients. Return the last Linear layer's output.",
        quiz="logits#classifier-returns-logits",
    ),
    Mistake(
        id=ONE_CLASS, function="",
        name="The classifier predicts the same class for every image",
        message="Your classifier gives every held-out image the same class: it has not learned from the pixels. "
                "Common causes: a loss that does not fit (cross-entropy on logits with integer labels is the "
                "one), a learning rate far too small or too large, or an optimizer built over other parameters "
                "than the model's.",
        quiz="choosing-a-loss#mse-for-classification",
    ),
    Mistake(
        id=STOPPED_TOO_EARLY, function="",
        name="Training stopped before the model fit the data",
        message="Your model has learned the shape of the task (its predictions follow the distance, or it gets "
                "well above chance on the digits), but not enough of it: too few steps, a learning rate too "
                "small, or, on raw numbers, one learning rate that cannot suit weights of very different scales. "
                "Print the loss every 50 steps: while it still falls, train longer (or with a larger learning "
                "rate, or Adam); standardising raw inputs and targets makes one learning rate suit them all.",
        quiz="training-step#learning-rate-too-high",
    ),
    Mistake(
        id=BATCH_STATISTICS, function="",
        name="The model standardises each batch with that batch's own statistics",
        message="Your model's prediction for an input depends on the other inputs that come with it: forward "
                "computes a mean and a std of the batch it is given, instead of using the training data's. "
                "Held-out data that arrives all at once looks like the training data, so this can seem to work, "
                "but a batch of only short deliveries (or a single one) is standardised to something else. "
                "Compute the statistics once from the training data and keep them in the model (attributes or "
                "register_buffer).",
        quiz="loss-scales#mse-units",
    ),
    Mistake(
        id=FIXED_CLASSES, function="",
        name="The classifier has a fixed number of outputs instead of num_classes",
        message="Your classifier gives 10 logits per image whatever num_classes says: the last layer was built "
                "with a number written out rather than with num_classes. A dataset with another number of classes "
                "then gets logits for classes that do not exist (or too few). Build the last Linear layer with "
                "num_classes outputs.",
        quiz="logits#classifier-returns-logits",
    ),
]

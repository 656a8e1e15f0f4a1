"""Checks for exercise 08: `fit_regression` and `fit_classifier`.

The data are generated here, seeded, in the trusted process: delivery times from distances
with noise, and small 8x8 seven-segment digits (templates drawn in code, shifted by up to a
pixel, with random ink, flipped pixels and noise); nothing is downloaded. The `fit` driver
trains the learner's model inside the worker with `FIT_SECONDS` to finish, then reports the
model's output on held-out inputs; the error and the accuracy are computed here.

The held-out set is secret: drawn from the grading secret (see checks/secret.py), and its
answers (labels, noise) from generators of their own, of which the learner sees no output
at all. So neither the public check ids nor the training data or held-out inputs that the
learner's code is given tell the answers: a lookup table cannot be built in advance.
"""
from __future__ import annotations

from typing import Any, Protocol

import torch

from lossgrade.checks import compare
from lossgrade.checks.framework import CheckContext, Checks
from lossgrade.misconceptions import ex08_fit as wrong

checks = Checks("ex08_fit")

FIT_SECONDS = 30.0  # the contract's limit for one fit, on one CPU core
GRACE_SECONDS = 5.0  # then the worker is killed, if the learner's code ignored the stop
NOISE_STD = 2.0  # minutes: no model can beat an MSE of NOISE_STD ** 2 on average
MAX_MSE = 6.0  # held-out MSE in minutes squared; the reference gets about 4.1
MIN_ACCURACY = 0.80  # held-out accuracy over ten digits: the reference gets ~0.96, a linear model ~0.85
CLASSES = 10
PARTS = 4  # the held-out inputs are also given in this many batches: a prediction may not depend on its batch
FEW_CLASSES = 4  # a second, small classifier fit: the model must have num_classes outputs, not always ten

# Seven-segment digits: a top, b upper right, c lower right, d bottom, e lower left,
# f upper left, g middle: (row, column) pixels in the 8x8 grid, vertical strokes two pixels wide.
SEGMENTS = {
    "a": [(1, c) for c in range(1, 7)], "g": [(4, c) for c in range(1, 7)], "d": [(7, c) for c in range(1, 7)],
    "f": [(r, c) for r in range(1, 5) for c in (1, 2)], "b": [(r, c) for r in range(1, 5) for c in (5, 6)],
    "e": [(r, c) for r in range(4, 8) for c in (1, 2)], "c": [(r, c) for r in range(4, 8) for c in (5, 6)],
}
DIGITS = ("abcdef", "bc", "abdeg", "abcdg", "bcfg", "acdfg", "acdefg", "abc", "abcdefg", "abcdfg")


def templates() -> torch.Tensor:
    """(10, 8, 8): each digit's segments inked with 1.0."""
    glyphs = torch.zeros(CLASSES, 8, 8)
    for digit, segments in enumerate(DIGITS):
        for segment in segments:
            for row, column in SEGMENTS[segment]:
                glyphs[digit, row, column] = 1.0
    return glyphs


class Draws(Protocol):
    """Where random numbers come from: a CheckContext, or a `Stream` of one's own."""

    def rand(self, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor: ...

    def randn(self, *shape: int, dtype: torch.dtype = torch.float32, scale: float = 1.0) -> torch.Tensor: ...

    def randint(self, high: int, *shape: int) -> torch.Tensor: ...


class Stream:
    """rand, randn and randint as a CheckContext draws them, from another generator."""

    def __init__(self, generator: torch.Generator) -> None:
        self.rng = generator

    rand = CheckContext.rand
    randn = CheckContext.randn
    randint = CheckContext.randint


def digit_images(t: Draws, n: int, labels_from: Draws | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 64) float32 images and (n,) int64 labels: a template shifted by -1..1 pixels in
    each direction (zeros shifted in), 2% of its pixels flipped, ink of random strength and
    Gaussian noise. The labels come from `labels_from` when given (a held-out set's)."""
    labels = (labels_from or t).randint(CLASSES, n)
    padded = torch.nn.functional.pad(templates()[labels], (1, 1, 1, 1))  # (n, 10, 10)
    shifts = t.randint(3, n, 2)
    images = torch.stack([padded[i, r:r + 8, c:c + 8] for i, (r, c) in enumerate(shifts.tolist())])
    images = torch.where(t.rand(n, 8, 8) < 0.02, 1.0 - images, images)
    images = images * (0.6 + 0.4 * t.rand(n, 1, 1)) + 0.1 * t.randn(n, 8, 8)
    return images.reshape(n, 64), labels


def delivery_times(t: Draws, n: int, noise_from: Draws | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances of 1-20 km (n, 1) and delivery times (n, 1): 5 min plus 2.5 min/km, with
    Gaussian noise of NOISE_STD minutes (from `noise_from` when given: a held-out set's)."""
    distance = 1.0 + 19.0 * t.rand(n, 1)
    return distance, 5.0 + 2.5 * distance + NOISE_STD * (noise_from or t).randn(n, 1)


def held_out(t: CheckContext) -> tuple[Stream, Stream]:
    """The held-out set's generators: one for its inputs (which the model is shown), one for
    its answers (which nothing the learner is given comes from)."""
    return Stream(t.hidden_rng("inputs")), Stream(t.hidden_rng("answers"))


# --- running a fit ----------------------------------------------------------------------------
def _fit(t: CheckContext, function: str, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor,
         num_classes: int | None = None, order: torch.Tensor | None = None) -> torch.Tensor:
    """The learner's trained model's output on `x_test`, after every check that needs no
    numbers: finished in time, returned an nn.Module, whose forward returned a tensor, and,
    given an `order` of the held-out rows, one that does not change when those rows come in
    PARTS batches in that order instead of all at once."""
    args = f"x=float32{list(x.shape)}, y={compare.dtype_name(y.dtype)}{list(y.shape)}"
    call = f"{function}({args}{'' if num_classes is None else f', num_classes={num_classes}'}), then " \
           f"model(x_test) on {len(x_test)} held-out inputs under torch.no_grad()"
    stopped = (f"Your {function} was stopped after {FIT_SECONDS:g} s: each fit must finish within "
               f"{FIT_SECONDS:g} s on one CPU core. A few hundred full-batch steps on a small network take well "
               "under a second; look for a loop that never ends or far too many steps.")
    parts = list(order.chunk(PARTS)) if order is not None else []
    reply = t.learner.drive("fit", timeout=FIT_SECONDS + GRACE_SECONDS, function=function, x=x, y=y, x_test=x_test,
                            limit=FIT_SECONDS, num_classes=num_classes, x_parts=[x_test[rows] for rows in parts])
    if reply.kind == "timeout":
        t.fail(stopped, call=call, output=reply.output)
    t.require_value(reply, call)
    report: dict[str, Any] = reply.value if isinstance(reply.value, dict) else {}
    if report.get("stopped") or float(report.get("seconds", 0.0)) > FIT_SECONDS:
        t.fail(stopped, call=call, output=reply.output)
    if not report.get("is_module"):
        t.fail(f"{function} returned a {report.get('type')}, not a model. Return the trained nn.Module itself "
               "(`return model`), not its predictions, its loss or a tuple.", call=call, output=reply.output,
               mistake=wrong.NOT_A_MODULE)
    output = report.get("output") or {}
    if not isinstance(output.get("value"), torch.Tensor):
        t.fail(f"The model's forward returned a {output.get('type')}; it should return a tensor.", call=call)
    value: torch.Tensor = output["value"]
    if not value.is_floating_point():
        t.fail(f"The model's output has dtype {compare.dtype_name(value.dtype)}; it should be a float tensor.",
               call=call, mistake=wrong.CLASS_INDICES if num_classes is not None else None)
    if not bool(torch.isfinite(value).all()):
        t.fail("The model's output holds nan or inf: training diverged (learning rate too high?) or a scale "
               "divides by zero.", call=call, got=compare.show(value), mistake=wrong.DIVERGED)
    _same_in_batches(t, function, value, parts, [part.get("value") for part in report.get("parts") or []])
    return value.double()


def _same_in_batches(t: CheckContext, function: str, whole: torch.Tensor, parts: list[torch.Tensor],
                     outputs: list[Any]) -> None:
    """Fail when the model's output on the held-out rows, given in batches (`parts`: their
    indices), differs from its output on all of them at once: forward used statistics of
    the batch it was given. Outputs of another shape are left to the checks of shapes."""
    if not parts or len(outputs) != len(parts):
        return
    joined = whole.double().clone()
    for rows, out in zip(parts, outputs, strict=True):
        if not isinstance(out, torch.Tensor) or out.shape != (len(rows), *whole.shape[1:]):
            return
        joined[rows] = out.double()
    gap = float((joined - whole.double()).abs().nan_to_num(float("inf")).max()) if len(whole) else 0.0
    if gap <= 1e-3 * max(1.0, float(whole.double().abs().max())):
        return
    what = "distances" if function == "fit_regression" else "images"
    first = "the shortest" if function == "fit_regression" else "the faintest"
    t.fail(f"Your model's output for the same held-out {what} changed when they came in {PARTS} batches ({first} "
           f"first) instead of all at once, by up to {gap:.3g}: forward computes statistics (a mean, a std) of the "
           "batch it is given. Keep the training data's statistics in the model and use those.",
           call=f"model(x_test), then model on each of {PARTS} parts of x_test, under torch.no_grad()",
           got=f"outputs up to {gap:.3g} apart", expected="the same output in any batch",
           mistake=wrong.BATCH_STATISTICS)


@checks.add(f"fit_regression returns an nn.Module whose held-out MSE on delivery times is at most {MAX_MSE:g} "
            f"(the noise alone gives {NOISE_STD ** 2:g}), trained within {FIT_SECONDS:g} s; a distance's prediction "
            "does not depend on the batch it comes in",
            hint="MSE loss, one output. Standardise x and y with the training data's mean and std, kept inside "
                 "the model (forward converts its output back to minutes), and train with Adam (lr 0.01-0.03) for "
                 "a few hundred full-batch steps.")
def regression(t: CheckContext) -> None:
    x, y = delivery_times(t, 200)
    shown, answers = held_out(t)
    x_test, y_test = delivery_times(shown, 1000, noise_from=answers)
    prediction = _fit(t, "fit_regression", x, y, x_test, order=x_test[:, 0].argsort())
    if prediction.shape != y_test.shape:
        t.fail(f"The model's output has shape {compare.shape(prediction)}, but for {len(x_test)} distances of "
               f"shape {compare.shape(x_test)} it should be {compare.shape(y_test)}: one time per row. (An (N,) "
               "output against (N, 1) targets would broadcast into an (N, N) matrix of errors.)",
               mistake=wrong.OUTPUT_SHAPE)
    y_test = y_test.double()
    mse = float(((prediction - y_test) ** 2).mean())
    if mse <= MAX_MSE:
        return
    average = float(((y_test - y.double().mean()) ** 2).mean())
    got = f"held-out MSE {mse:.4g} min²; predictions range {prediction.min():.4g} to {prediction.max():.4g} min"
    expected = f"held-out MSE at most {MAX_MSE:g} min²"
    # Still standardised: the output is right once multiplied by the training times' std and shifted by
    # their mean, the statistics the model should have used to convert its output back to minutes.
    y_mean, y_std = float(y.double().mean()), float(y.double().std())
    converted = prediction * y_std + y_mean
    if float(((converted - y_test) ** 2).mean()) <= MAX_MSE:
        t.fail(f"Your model's predictions range {prediction.min():.3g} to {prediction.max():.3g}, around 0 with a "
               f"spread of about 1, while the times are {y_mean:.3g} ± {y_std:.3g} minutes: the output is still "
               f"standardised. Multiplied by {y_std:.3g} and shifted by {y_mean:.3g} it would have a held-out MSE "
               f"of {float(((converted - y_test) ** 2).mean()):.3g}.", got=got, expected=expected,
               mistake=wrong.STILL_STANDARDISED)
    flat = float(prediction.std()) < 0.3 * float(y_test.std())
    if flat and abs(float(prediction.mean()) - y_mean) < 0.25 * y_std:
        t.fail(f"Your model predicts about the same time for every distance, around {prediction.mean():.4g} "
               f"minutes: its held-out MSE is {mse:.4g}, close to the {average:.4g} that always answering the "
               "average time gives.", got=got, expected=expected, mistake=wrong.PREDICTS_THE_MEAN)
    if flat:
        t.fail(f"Your model's predictions hardly depend on the distance and sit around {prediction.mean():.4g} "
               f"minutes, far from the times ({y_mean:.4g} on average): training barely moved the model from "
               "where it started.", got=got, expected=expected, mistake=wrong.BARELY_TRAINED)
    t.fail(f"Your model's held-out MSE is {mse:.4g} min²; it should be at most {MAX_MSE:g} (noise alone gives "
           f"{NOISE_STD ** 2:g}, always answering the average gives {average:.4g}). Train longer while watching the "
           "loss fall; on raw data, standardising x and y lets one learning rate suit every weight.", got=got,
           expected=expected, mistake=wrong.STOPPED_TOO_EARLY if _follows(prediction, x_test) else None)


def _follows(prediction: torch.Tensor, x_test: torch.Tensor) -> bool:
    """The predictions rise with the distance (correlation above 0.9): the model has the task's
    shape, only not yet its scale and offset."""
    pair = torch.stack([prediction.flatten().double(), x_test.flatten().double()])
    return bool(pair[0].std() > 0) and float(torch.corrcoef(pair)[0, 1]) > 0.9


@checks.add(f"fit_classifier returns an nn.Module whose forward gives logits and whose held-out accuracy on "
            f"8x8 digits is at least {MIN_ACCURACY:.0%}, trained within {FIT_SECONDS:g} s, in any batch; with "
            f"num_classes={FEW_CLASSES} it gives {FEW_CLASSES} logits per image",
            hint="Cross-entropy on logits: the last layer is a Linear with num_classes outputs and no softmax. "
                 "Standardise the pixels and train with Adam for a few hundred full-batch steps.")
def classifier(t: CheckContext) -> None:
    x, y = digit_images(t, 800)
    shown, answers = held_out(t)
    x_test, y_test = digit_images(shown, 1000, labels_from=answers)
    logits = _fit(t, "fit_classifier", x, y, x_test, num_classes=CLASSES, order=x_test.sum(1).argsort())
    if logits.dim() < 2 or logits.shape[1:] == (1,):
        t.fail(f"The model's output has shape {compare.shape(logits)}: one number per image. For {CLASSES} classes "
               f"it should be ({len(x_test)}, {CLASSES}): one logit per class.", mistake=wrong.ONE_OUTPUT)
    if logits.shape != (len(x_test), CLASSES):
        t.fail(f"The model's output has shape {compare.shape(logits)}; for {len(x_test)} images and {CLASSES} "
               f"classes it should be ({len(x_test)}, {CLASSES}): one logit per class.")
    rows_sum_to_one = compare.within(logits.sum(1), torch.ones(len(logits), dtype=logits.dtype), rtol=1e-5, atol=1e-4)
    if rows_sum_to_one and bool(((logits >= 0) & (logits <= 1)).all()):
        t.fail("Your model's forward returns probabilities: every row is between 0 and 1 and sums to 1. It "
               "should return logits, the raw scores of the last Linear layer.",
               got=f"first row {compare.show(logits[0].float())}, summing to 1",
               expected="logits: any real numbers, one per class", mistake=wrong.PROBABILITIES)
    if bool(((logits >= 0) & (logits <= 1)).all()):
        t.fail("Every output of your model's forward is between 0 and 1: it ends in a sigmoid (or another "
               "squashing function). It should return logits, the raw scores of the last Linear layer.",
               got=f"first row {compare.show(logits[0].float())}", expected="logits: any real numbers, one per class",
               mistake=wrong.SQUASHED)
    predicted = logits.argmax(1)
    accuracy = float((predicted == y_test).double().mean())
    if accuracy >= MIN_ACCURACY:
        _expect_num_classes(t)
        return
    got = f"held-out accuracy {accuracy:.1%}"
    counts = torch.bincount(predicted, minlength=CLASSES)
    if int(counts.max()) == len(predicted):
        t.fail(f"Your model predicts class {int(counts.argmax())} for every held-out image (accuracy "
               f"{accuracy:.1%}, chance is {1 / CLASSES:.0%}): it has not learned from the pixels. Check the loss "
               "(cross-entropy on logits, integer labels) and that the optimizer updates the model's parameters.",
               got=got, expected=f"at least {MIN_ACCURACY:.0%}", mistake=wrong.ONE_CLASS)
    t.fail(f"Your model's held-out accuracy is {accuracy:.1%}; it should be at least {MIN_ACCURACY:.0%} (chance "
           f"is {1 / CLASSES:.0%}). Train longer while watching the loss fall, or give the network a hidden layer; "
           "standardised pixels let one learning rate suit every weight.",
           got=got, expected=f"at least {MIN_ACCURACY:.0%}",
           mistake=wrong.STOPPED_TOO_EARLY if accuracy >= 1.5 / CLASSES else None)  # well above chance, not enough


def _expect_num_classes(t: CheckContext) -> None:
    """A second fit, on images of the first FEW_CLASSES digits only, with num_classes=FEW_CLASSES:
    the model gives that many logits per image (its accuracy is not scored)."""
    images, labels = digit_images(t, 300)
    keep = labels < FEW_CLASSES
    x_test = digit_images(t, 20)[0]
    logits = _fit(t, "fit_classifier", images[keep], labels[keep], x_test, num_classes=FEW_CLASSES)
    if logits.shape == (len(x_test), FEW_CLASSES):
        return
    fixed = logits.dim() == 2 and logits.shape[1] == CLASSES
    t.fail(f"With num_classes={FEW_CLASSES} (images of the digits 0 to {FEW_CLASSES - 1} only) your model's output "
           f"has shape {compare.shape(logits)}; it should be ({len(x_test)}, {FEW_CLASSES}): one logit per class."
           + (" The last layer has 10 outputs whatever num_classes says." if fixed else ""),
           mistake=wrong.FIXED_CLASSES if fixed else None)

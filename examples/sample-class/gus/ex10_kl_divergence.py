# my work on ex10_kl_divergence.py, version 7
"""Exercise 10: KL divergence the way torch writes it, and knowledge distillation.

The Kullback-Leibler divergence measures how much a distribution q (a model's) misses a
distribution p (the one it should match):

    KL(p || q) = sum_c p_c * (log p_c - log q_c)

It is 0 when q equals p and positive otherwise. It is not symmetric: KL(p || q) and
KL(q || p) are different numbers, and which one you minimise changes what the model learns.

`torch.nn.functional.kl_div(input, target)` computes KL(target || input's distribution),
with an argument order that surprises almost everyone:

  * `input` holds LOG-probabilities (the model's log q, straight from log_softmax);
  * `target` holds probabilities p (or log-probabilities with `log_target=True`).

Each element costs target * (log target - input), and a target of exactly 0 costs 0: the
limit of p log p as p goes to 0 is 0, even though 0 * log 0 typed as written is
0 * -inf = nan. With `log_target=True` the element is exp(target) * (target - input).

The reductions are where torch itself warns. "sum" adds every element and "none" returns
them. "batchmean" divides the sum by the batch size input.shape[0]: that is the real KL
divergence, averaged over the samples. "mean" divides by EVERY element, N * C, so it is the
KL divided by the number of classes too; torch keeps it as the default and warns "'mean'
divides the total loss by both the batch size and the support size".

Worked example, one sample: the model's q = [0.5, 0.3, 0.2] (input = log q), the target
p = [0.7, 0.2, 0.1]:
  * reduction="none" gives [0.2355, -0.0811, -0.0693] (single terms may be negative);
  * "batchmean" and "sum" give KL(p || q) = 0.0851, "mean" gives 0.0851 / 3 = 0.0284;
  * the other direction, KL(q || p), is 0.0920; the cross-entropy -sum p log q is 0.887.
Add a second sample with q = [0.25, 0.25, 0.5] and target [1, 0, 0]: its terms are
[1.3863, 0, 0] (the zeros cost 0, not nan), "sum" is 1.4714, "batchmean" 0.7357 and
"mean" 0.2452.

Distillation (Hinton et al., 2015) trains a small student to match a big teacher's
softened predictions: both sets of logits are divided by a temperature T > 1, which makes
the distributions softer, and

    distillation_loss = T^2 * kl_div(log_softmax(student / T), softmax(teacher / T), "batchmean")

The student gives the input (log-probabilities), the teacher the target (probabilities):
KL(teacher || student). Dividing the logits by T shrinks the gradients by about 1 / T^2;
the factor T^2 gives them back, so that changing T does not change the step size. Student
[2.0, 1.0, 0.1] against teacher [3.0, 1.0, 0.2]: 0.0790 at T = 1; at T = 2 the KL is 0.0281
and the loss 4 * 0.0281 = 0.1124; at T = 4 the loss is 0.1137. Logits are (N, C), with the
classes in the last dimension.

You may not call `torch.nn.functional.kl_div`, `torch.kl_div` or `torch.nn.KLDivLoss`;
`torch.log_softmax`, `torch.softmax`, `torch.xlogy` and elementary operations are fine.

Run `lossgrade check ex10` to test your work, `lossgrade hint ex10` when stuck.
"""
import torch


def kl_div(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
           log_target: bool = False) -> torch.Tensor:
    """`torch.nn.functional.kl_div`: KL(target || exp(input)), elementwise, then reduced.

    Args:
        input: log-probabilities of the model, any shape; the batch is dimension 0.
        target: probabilities, of the input's shape (log-probabilities if `log_target`).
        reduction: "mean" (divide the sum by the number of elements, as torch does),
            "batchmean" (divide the sum by input.shape[0]; a 0-d input is not divided),
            "sum", or "none" (the elementwise terms, of the input's shape).
        log_target: whether `target` holds log-probabilities.

    Returns:
        A tensor of the input's dtype, on its device. A target of 0 contributes exactly 0
        (where the input is finite). An empty input gives nan for "mean" and "batchmean"
        (0 / 0) and 0 for "sum", as torch.

    Raises:
        ValueError: if `reduction` is not one of the four names.
    """
    # TODO: the elementwise terms first (mind the zeros), then the reduction.
    raise NotImplementedError("ex10: kl_div is not written yet")


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      temperature: float) -> torch.Tensor:
    """The distillation loss T^2 * KL(softmax(teacher / T) || softmax(student / T)).

    Args:
        student_logits: raw scores of the student, shape (N, C).
        teacher_logits: raw scores of the teacher, shape (N, C).
        temperature: T > 0; the larger, the softer both distributions.

    Returns:
        A 0-d tensor of the logits' dtype: the KL averaged over the N samples ("batchmean"),
        times T^2. Exact for logits as large as 1e4 (no inf, no nan).

    Raises:
        ValueError: if `temperature` is not positive.
    """
    # TODO: soften both with T, turn them into what kl_div wants, and scale by T^2.
    raise NotImplementedError("ex10: distillation_loss is not written yet")

"""Mistakes learners make writing the margin ranking and triplet margin losses.

The wrong implementations run in the trusted process, so they may use torch's own
functions; each reproduces one mistake and is otherwise right. Written with the instructor
API alone (`lossgrade.misconceptions`).
"""
from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from lossgrade.misconceptions import Mistake, detached, python_number, reduce as _reduce, upcast

QUIZ = "embedding-losses"
REDUCTIONS = ("mean", "sum", "none")


# --- margin_ranking_loss
def _ranking(z: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, float], torch.Tensor],
             hinge: Callable[[torch.Tensor], torch.Tensor] = lambda v: v.clamp_min(0)) -> Callable[..., torch.Tensor]:
    """A margin ranking loss whose z (before the hinge) or hinge is the mistake's."""
    def wrong(x1: torch.Tensor, x2: torch.Tensor, y: torch.Tensor, margin: float = 0.0,
              reduction: str = "mean") -> torch.Tensor:
        return _reduce(hinge(z(x1, x2, y, margin)), reduction)
    return wrong


def _right_z(x1: torch.Tensor, x2: torch.Tensor, y: torch.Tensor, margin: float) -> torch.Tensor:
    return -y * (x1 - x2) + margin


def _right_ranking(x1: torch.Tensor, x2: torch.Tensor, y: torch.Tensor, margin: float = 0.0,
                   reduction: str = "mean") -> torch.Tensor:
    return F.margin_ranking_loss(x1, x2, y, margin=margin, reduction=reduction)


# --- triplet_margin_loss
def _triplet(distance: Callable[[torch.Tensor, torch.Tensor, float, float], torch.Tensor] | None = None,
             swap_rule: str = "min", hinge: Callable[[torch.Tensor], torch.Tensor] = lambda v: v.clamp_min(0),
             sign: float = 1.0) -> Callable[..., torch.Tensor]:
    """A triplet margin loss with the mistake's distance, swap rule, hinge or sign."""
    measure = distance or _distance

    def wrong(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, margin: float = 1.0,
              p: float = 2.0, eps: float = 1e-6, swap: bool = False, reduction: str = "mean") -> torch.Tensor:
        d_pos = measure(anchor, positive, p, eps)
        d_neg = measure(anchor, negative, p, eps)
        if swap and swap_rule == "min":
            d_neg = torch.minimum(d_neg, measure(positive, negative, p, eps))
        elif swap and swap_rule == "replace":
            d_neg = measure(positive, negative, p, eps)
        return _reduce(hinge(sign * (d_pos - d_neg) + margin), reduction)
    return wrong


def _distance(x: torch.Tensor, y: torch.Tensor, p: float, eps: float) -> torch.Tensor:
    return F.pairwise_distance(x, y, p=p, eps=eps)


def _right_triplet(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, margin: float = 1.0,
                   p: float = 2.0, eps: float = 1e-6, swap: bool = False, reduction: str = "mean") -> torch.Tensor:
    return F.triplet_margin_loss(anchor, positive, negative, margin=margin, p=p, eps=eps, swap=swap,
                                 reduction=reduction)


def _whole_batch_distance(x: torch.Tensor, y: torch.Tensor, p: float, eps: float) -> torch.Tensor:
    return torch.linalg.vector_norm(x - y + eps, ord=p)


# --- reductions and validations, shared by both functions
def _sum_for_mean(right: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    def wrong(*args: Any, reduction: str = "mean", **kwargs: Any) -> torch.Tensor:
        return right(*args, reduction="sum" if reduction == "mean" else reduction, **kwargs)
    return wrong


def _mean_over_active(right: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """'mean' divides by the number of elements that cost something, as "batch all" triplet
    mining does; a batch where none does gives 0."""
    def wrong(*args: Any, reduction: str = "mean", **kwargs: Any) -> torch.Tensor:
        losses = right(*args, reduction="none", **kwargs)
        if reduction != "mean":
            return _reduce(losses, reduction)
        active = (losses > 0).sum()
        return losses.sum() / active.clamp_min(1)
    return wrong


def _unvalidated(compute: Callable[..., torch.Tensor], *, dims: bool = True, reduction: bool = True,
                 margin: bool | None = None) -> Callable[..., torch.Tensor]:
    """`compute` with the checks that are kept (`margin` None: there is none to keep); what is
    dropped computes anyway: tensors of different dimensions broadcast, an unknown reduction
    is 'none', a margin of 0 or below is used as it is."""
    def wrong(first: torch.Tensor, second: torch.Tensor, third: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get("reduction", "mean")
        if reduction and name not in REDUCTIONS:
            raise ValueError(f"unknown reduction {name!r}")
        if dims and not first.dim() == second.dim() == third.dim():
            raise RuntimeError("the tensors differ in their number of dimensions")
        if margin and kwargs.get("margin", 1.0) <= 0:
            raise ValueError("margin must be > 0")
        if name not in REDUCTIONS:
            kwargs = {**kwargs, "reduction": "none"}
        return compute(*torch.broadcast_tensors(first, second, third), *args, **kwargs)
    return wrong


def _validation(mistake_id: str, function: str, what: str) -> Mistake:
    texts = {
        "dims": ("Did not refuse tensors with different numbers of dimensions",
                 "Given tensors of different dimensions (an (N, 1) score against (N,) labels, or one (D,) "
                 "positive for (N, D) anchors) your function returned a value: torch broadcast them into a table "
                 "of every element against every other, and the loss trains on nonsense. torch refuses with "
                 "RuntimeError: compare the number of dimensions first and raise."),
        "reduction": ("Did not refuse an unknown `reduction`",
                      "Given reduction='average' your function returned a value instead of raising ValueError. A "
                      "typo in an argument should stop the program, not silently pick another behaviour: compare "
                      "reduction with 'mean', 'sum' and 'none' first."),
        "margin": ("Did not refuse a margin of 0 or below",
                   "Given margin 0 (or -1) your triplet loss returned a value. torch refuses it with ValueError: "
                   "without a positive margin a triplet costs nothing as soon as the negative is no nearer than "
                   "the positive, so nothing pushes the two apart. Check margin > 0 first."),
    }
    name, message = texts[what]
    triplet = function == "triplet_margin_loss"
    wrong = _unvalidated(_triplet() if triplet else _right_ranking, dims=what != "dims",
                         reduction=what != "reduction", margin=triplet and what != "margin")
    quiz = {"dims": "targets#target-shape", "reduction": "loss-scales#sum-vs-mean",
            "margin": f"{QUIZ}#hinge-at-the-margin"}[what]
    return Mistake(id=mistake_id, function=function, name=name, message=message, quiz=quiz, wrong=wrong)


SUM_NOT_MEAN = ("Summed the losses for reduction='mean'",
                "Your 'mean' equals the sum of the losses. 'mean' divides by the number of elements (pairs, or "
                "triplets), so that the loss and its gradients do not grow with the batch size.")
MEAN_OVER_ACTIVE = ("Averaged over the pairs or triplets that cost something, not over all of them",
                    "Your 'mean' divides the sum by the number of elements whose loss is above 0. torch's mean "
                    "divides by every element, those that already satisfy the margin included: averaging over "
                    "the violated ones only (as some triplet-mining recipes do) gives larger losses as training "
                    "succeeds, and a batch where every element is satisfied would divide 0 by 0.")
NO_HINGE = ("Left out the hinge: elements that satisfy the margin give negative losses",
            "Your loss is z itself, not max(0, z): a pair or triplet that already satisfies the margin gives a "
            "negative loss, so the model keeps pushing pairs that are already right further apart instead of "
            "fixing the wrong ones. Clamp each element's z at 0 before the reduction.")


MISCONCEPTIONS = [
    # --- margin_ranking_loss
    Mistake(
        id="ex13.ranking-sign-flipped", function="margin_ranking_loss",
        name="Flipped the sign of y: max(0, y * (x1 - x2) + margin)",
        message="Your loss charges the pairs that are ordered as y asks and lets the wrong ones go: it rewards "
                "x2 above x1 when y = 1. y = 1 means x1 should rank higher, so the cost of a pair grows as "
                "x1 - x2 falls: the term is -y * (x1 - x2).",
        quiz=f"{QUIZ}#ranking-labels",
        wrong=_ranking(lambda x1, x2, y, m: y * (x1 - x2) + m),
    ),
    Mistake(
        id="ex13.ranking-margin-subtracted", function="margin_ranking_loss",
        name="Subtracted the margin instead of adding it",
        message="Your loss is max(0, -y * (x1 - x2) - margin): a pair costs nothing while it is wrong by less "
                "than the margin. The margin is room to spare on the right side: a pair costs until x1 leads x2 "
                "by at least the margin, so it is added.",
        quiz=f"{QUIZ}#hinge-at-the-margin",
        wrong=_ranking(lambda x1, x2, y, m: -y * (x1 - x2) - m),
    ),
    Mistake(
        id="ex13.ranking-margin-times-y", function="margin_ranking_loss",
        name="Multiplied the margin by y: max(0, -y * (x1 - x2 + margin))",
        message="Your loss puts the margin inside the product with y, so for y = 1 the margin is subtracted and "
                "a wrong pair costs nothing while it is wrong by less than the margin. The margin does not "
                "depend on the direction: -y * (x1 - x2) + margin.",
        quiz=f"{QUIZ}#ranking-labels",
        wrong=_ranking(lambda x1, x2, y, m: -y * (x1 - x2 + m)),
    ),
    Mistake(
        id="ex13.labels-as-zero-one", function="margin_ranking_loss",
        name="Treated y as 0/1 labels and mapped them with 2y - 1",
        message="Your loss maps y to 2y - 1, which is right for labels of 0 and 1 but turns torch's -1 into -3, "
                "tripling the cost of every pair with y = -1. margin_ranking_loss takes y in {1, -1} already; "
                "use it as it is.",
        quiz=f"{QUIZ}#ranking-labels",
        wrong=_ranking(lambda x1, x2, y, m: -(2 * y - 1) * (x1 - x2) + m),
    ),
    Mistake(
        id="ex13.ranking-no-hinge", function="margin_ranking_loss", name=NO_HINGE[0], message=NO_HINGE[1],
        quiz=f"{QUIZ}#hinge-at-the-margin",
        wrong=_ranking(_right_z, hinge=lambda v: v),
    ),
    Mistake(
        id="ex13.squared-hinge", function="margin_ranking_loss",
        name="Squared the hinge: max(0, z) ** 2",
        message="Your loss squares each hinge, as a squared-hinge SVM does. torch's margin ranking loss is "
                "linear beyond the margin: a pair wrong by 2 costs twice a pair wrong by 1, not four times.",
        quiz=f"{QUIZ}#hinge-at-the-margin",
        wrong=_ranking(_right_z, hinge=lambda v: v.clamp_min(0) ** 2),
    ),
    Mistake(id="ex13.sum-not-mean", function="margin_ranking_loss", name=SUM_NOT_MEAN[0], message=SUM_NOT_MEAN[1],
            quiz="loss-scales#sum-vs-mean", wrong=_sum_for_mean(_right_ranking)),
    Mistake(id="ex13.mean-over-active", function="margin_ranking_loss", name=MEAN_OVER_ACTIVE[0],
            message=MEAN_OVER_ACTIVE[1], quiz="loss-scales#sum-vs-mean", wrong=_mean_over_active(_right_ranking)),
    _validation("ex13.dims-not-checked", "margin_ranking_loss", "dims"),
    _validation("ex13.reduction-not-checked", "margin_ranking_loss", "reduction"),
    upcast("ex13", "margin_ranking_loss", _right_ranking),
    python_number("ex13", "margin_ranking_loss", _right_ranking),
    detached("ex13", "margin_ranking_loss", _right_ranking),
    # --- triplet_margin_loss
    Mistake(
        id="ex13.squared-distance", function="triplet_margin_loss",
        name="Used squared distances (FaceNet's form), not the p-norm itself",
        message="Your loss compares squared distances, as the FaceNet paper writes it. torch's triplet loss "
                "compares the distances themselves, d(x, y) = ||x - y + eps||_p; squared, the margin is in other "
                "units and far triplets pull much harder than near ones. Take the norm, with its root.",
        quiz=f"{QUIZ}#triplet-plain-norm",
        wrong=_triplet(lambda x, y, p, eps: _distance(x, y, p, eps) ** 2),
    ),
    Mistake(
        id="ex13.norm-without-root", function="triplet_margin_loss",
        name="Left out the p-th root of the norm: sum |v|^p",
        message="Your distance is the sum of |x - y + eps|^p without the p-th root, which is right only for "
                "p = 1. The p-norm is (sum |v_i|^p)^(1/p): for p = 2 the square root of the sum of squares, for "
                "p = 3 the cube root of the sum of cubes.",
        quiz=f"{QUIZ}#triplet-plain-norm",
        wrong=_triplet(lambda x, y, p, eps: (x - y + eps).abs().pow(p).sum(-1)),
    ),
    Mistake(
        id="ex13.p-ignored", function="triplet_margin_loss",
        name="Used the Euclidean norm whatever p is",
        message="Your distance is the same for every p: the Euclidean norm. p chooses the norm: p = 1 sums the "
                "absolute differences (Manhattan), p = 3 takes the cube root of the sum of their cubes. Use p "
                "in the norm (torch.linalg.vector_norm's ord, or the power and root written out).",
        quiz=f"{QUIZ}#triplet-plain-norm",
        wrong=_triplet(lambda x, y, p, eps: _distance(x, y, 2.0, eps)),
    ),
    Mistake(
        id="ex13.eps-not-in-difference", function="triplet_margin_loss",
        name="Left eps out of the difference (ignored it, or added it to the norm)",
        message="Your distance is ||x - y|| (plus eps, perhaps, after the norm). torch adds eps to every "
                "coordinate of x - y before the norm, d(x, y) = ||x - y + eps||_p, so the norm never sees "
                "exactly 0 and its gradient stays finite when an anchor equals its positive. An eps added after "
                "the norm cancels between d(a, p) and d(a, n) and protects nothing.",
        quiz=f"{QUIZ}#eps-inside-the-norm",
        wrong=_triplet(lambda x, y, p, eps: _distance(x, y, p, 0.0)),
    ),
    Mistake(
        id="ex13.eps-wrong-side", function="triplet_margin_loss",
        name="Added eps to y - x instead of x - y",
        message="Your distances are ||y - x + eps||_p, that is ||x - y - eps||_p: the eps is subtracted from "
                "the difference torch uses. F.pairwise_distance(x, y) is ||x - y + eps||_p, with x the first "
                "argument: the anchor for both distances, and the positive for the swap distance.",
        quiz=f"{QUIZ}#eps-inside-the-norm",
        wrong=_triplet(lambda x, y, p, eps: _distance(y, x, p, eps)),
    ),
    Mistake(
        id="ex13.swap-ignored", function="triplet_margin_loss",
        name="Ignored swap=True",
        message="Your loss is the same with swap=True as without. With swap, the negative is measured from "
                "whichever of anchor and positive is nearer to it: d(a, n) is replaced by min(d(a, n), d(p, n)), "
                "which makes the triplet harder whenever the negative sits closer to the positive.",
        quiz=f"{QUIZ}#triplet-plain-norm",
        wrong=_triplet(swap_rule="none"),
    ),
    Mistake(
        id="ex13.swap-replaces", function="triplet_margin_loss",
        name="With swap, used d(positive, negative) instead of the smaller of the two distances",
        message="Your swap replaces d(anchor, negative) by d(positive, negative) in every triplet. The swap "
                "takes the smaller of the two, min(d(a, n), d(p, n)): the harder of the two views of the "
                "negative, not always the positive's.",
        quiz=f"{QUIZ}#triplet-plain-norm",
        wrong=_triplet(swap_rule="replace"),
    ),
    Mistake(
        id="ex13.distances-swapped", function="triplet_margin_loss",
        name="Subtracted the distances the wrong way round: d(a, n) - d(a, p) + margin",
        message="Your loss charges triplets whose negative is far and lets those whose negative is near go: it "
                "would pull the negatives in and push the positives away. The loss is "
                "max(d(a, p) - d(a, n) + margin, 0): it grows with the distance to the positive.",
        quiz=f"{QUIZ}#triplet-plain-norm",
        wrong=_triplet(sign=-1.0),
    ),
    Mistake(
        id="ex13.triplet-no-hinge", function="triplet_margin_loss", name=NO_HINGE[0], message=NO_HINGE[1],
        quiz=f"{QUIZ}#hinge-at-the-margin",
        wrong=_triplet(hinge=lambda v: v),
    ),
    Mistake(
        id="ex13.norm-over-whole-batch", function="triplet_margin_loss",
        name="Took one norm over the whole batch instead of one per row",
        message="Your distance is the norm of the whole (N, D) difference, one number for the batch, so every "
                "triplet shares it. Each row is one embedding: take the norm along the last dimension "
                "(dim=-1), which gives N distances, one per triplet.",
        quiz=f"{QUIZ}#triplet-plain-norm",
        wrong=_triplet(_whole_batch_distance),
    ),
    Mistake(id="ex13.sum-not-mean", function="triplet_margin_loss", name=SUM_NOT_MEAN[0], message=SUM_NOT_MEAN[1],
            quiz="loss-scales#sum-vs-mean", wrong=_sum_for_mean(_right_triplet)),
    Mistake(id="ex13.mean-over-active", function="triplet_margin_loss", name=MEAN_OVER_ACTIVE[0],
            message=MEAN_OVER_ACTIVE[1], quiz="loss-scales#sum-vs-mean", wrong=_mean_over_active(_right_triplet)),
    _validation("ex13.dims-not-checked", "triplet_margin_loss", "dims"),
    _validation("ex13.reduction-not-checked", "triplet_margin_loss", "reduction"),
    _validation("ex13.margin-not-checked", "triplet_margin_loss", "margin"),
    python_number("ex13", "triplet_margin_loss", _right_triplet),
    detached("ex13", "triplet_margin_loss", _right_triplet),
]

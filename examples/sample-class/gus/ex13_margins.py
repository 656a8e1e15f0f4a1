# my work on ex13_margins.py, version 9
"""Exercise 13: margin ranking and triplet margin losses, from scratch.

Some losses do not ask for a right answer, only for an order: this item before that one,
this face nearer to that face than to a stranger's. They share one shape, the hinge:

    hinge(z) = max(0, z)

which costs nothing once the order holds with room to spare (z <= 0), and grows linearly
with how far it is violated. The room to spare is the margin.

`margin_ranking_loss(x1, x2, y, margin)` scores pairs: y = 1 says x1 should rank higher
than x2, y = -1 says lower. Each element costs max(0, -y * (x1 - x2) + margin). Worked
example: x1 = [0.8, 0.2, 0.5], x2 = [0.3, 0.6, 0.5], y = [1, 1, -1] with margin 0.1 cost
[0, 0.5, 0.1]: the first pair is ordered with room to spare, the second is the wrong way
round by 0.4 plus the margin, and the tie in the third still misses the margin. The
labels are 1 and -1, not 1 and 0: a 0 would switch the pair's ordering term off.

`triplet_margin_loss(anchor, positive, negative)` learns embeddings (face recognition,
retrieval): the anchor should be nearer to the positive (same person) than to the
negative (someone else) by at least the margin:

    loss = max(d(anchor, positive) - d(anchor, negative) + margin, 0)

with the distance of torch's F.pairwise_distance, d(x, y) = ||x - y + eps||_p along the
last dimension: eps is added to every coordinate of the difference, before the norm, so
that the gradient stays finite when x == y (the norm has no slope at 0). The norm is the
plain p-norm, (sum |v|^p)^(1/p), not its square. With swap=True the negative is measured
from whichever of anchor and positive is nearer to it: d(anchor, negative) is replaced by
min(d(anchor, negative), d(positive, negative)), d(positive, negative) being
||positive - negative + eps||_p. Worked example: anchor [0, 0], positive [3, 4] and
negative [6, 8] with p=2, eps=0 and margin 1 are 5 and 10 apart, which costs
max(5 - 10 + 1, 0) = 0; the negative [0, 3] (3 away) costs 5 - 3 + 1 = 3.

Exactly at the margin (z = 0) the hinge has a corner: its slope is 0 on one side, 1 on
the other. torch's clamp lets the gradient through there (slope 1); relu gives 0 and
torch.maximum 0.5. All three are right (each is a subgradient) and the checks accept any
of them; the value at the margin is 0 either way.

Both behave like the torch.nn.functional functions of the same names (the same
reductions, shapes, dtypes and errors), which you may not call, nor their module forms,
nor F.pairwise_distance or F.triplet_margin_with_distance_loss, nor F.hinge_embedding_loss
and F.multi_margin_loss, which hide the same hinge. You may use clamp, relu, torch.where,
torch.maximum/minimum, torch.norm, torch.linalg.vector_norm and torch.cdist.

Run `lossgrade check ex13` to test your work, `lossgrade hint ex13` when stuck.
"""
import torch


def margin_ranking_loss(
    x1: torch.Tensor, x2: torch.Tensor, y: torch.Tensor, margin: float = 0.0, reduction: str = "mean"
) -> torch.Tensor:
    """max(0, -y * (x1 - x2) + margin) per element, like `F.margin_ranking_loss`.

    Args:
        x1, x2: scores of the two items of each pair, any shape (the same for both).
        y: 1 where x1 should rank higher, -1 where x2 should; the same shape, float or int.
        margin: how much higher the right item must score before the pair costs nothing.
        reduction: "mean", "sum" or "none".

    Returns:
        A tensor in the scores' dtype (float16 and bfloat16 included).

    Raises:
        ValueError: if `reduction` is not one of the three names (as torch).
        RuntimeError (or ValueError): if x1, x2 and y do not have the same number of
            dimensions (as torch: an (N, 1) score against (N,) labels would broadcast into
            an (N, N) table of every pair against every label).
    """
    # TODO: validate, then the hinge of -y * (x1 - x2) + margin, then the reduction.
    raise NotImplementedError("ex13: margin_ranking_loss is not written yet")


def triplet_margin_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) per triplet, like `F.triplet_margin_loss`.

    Args:
        anchor, positive, negative: (N, D) embeddings, one triplet per row, or (D,) for
            a single triplet (the result is then 0-dim).
        margin: how much nearer the positive must be than the negative; must be > 0.
        p: the order of the norm, a finite number >= 1 (the checks use 1, 1.5, 2 and 3).
        eps: added to every coordinate of x - y before the norm: d(x, y) = ||x - y + eps||_p.
        swap: measure the negative from the nearer of anchor and positive (see above).
        reduction: "mean", "sum" or "none" (one loss per triplet: shape (N,)).

    Returns:
        A tensor in the inputs' dtype.

    Raises:
        ValueError: if `reduction` is not one of the three names, or margin <= 0 (as torch).
        RuntimeError (or ValueError): if the three do not have the same number of dimensions
            (as torch).
    """
    # TODO: validate, three distances (two without swap), the hinge, the reduction.
    raise NotImplementedError("ex13: triplet_margin_loss is not written yet")

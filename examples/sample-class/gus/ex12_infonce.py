# my work on ex12_infonce.py, version 7
"""Exercise 12: the contrastive InfoNCE loss, CLIP style.

CLIP learns from N (image, caption) pairs at once. An image encoder turns each image into a
row of `a` and a text encoder each caption into a row of `b`: row i of `a` and row i of `b`
belong together, and every other combination in the batch is a mismatch. The loss asks
each image to pick its own caption out of the N captions, and each caption its own image.

1. Normalise every row to length 1 (divide it by its L2 norm, as F.normalize(x, dim=1)
   does). Then a_i . b_j is the cosine of the angle between two embeddings, in [-1, 1]:
   only directions count, not lengths.
2. S = a @ b.T / temperature, an (N, N) matrix of logits: S[i, j] scores image i against
   caption j. Dividing by a small temperature (CLIP's starts at 0.07) spreads the cosines
   over a wider range, so the softmax can become confident.
3. Read row i of S as the logits of an N-way classification whose right answer is class i:
   the labels are the diagonal, torch.arange(N). That is cross-entropy over the rows.
   Column j is the same question asked the other way (which image fits caption j?):
   cross-entropy over the rows of S.T, with the same labels.
4. The loss is the mean of the two: (CE(S, arange(N)) + CE(S.T, arange(N))) / 2.

Worked example: a = [[3, 4], [1, 0]] and b = [[0.6, 0.8], [0, 2]] normalise to
[[0.6, 0.8], [1, 0]] and [[0.6, 0.8], [0, 1]], so with temperature 0.5 the logits are
S = [[2.0, 1.6], [1.2, 0.0]]. Cross-entropy over the rows is 0.988, over the columns 1.078,
and the loss is their mean, 1.033. Left unnormalised, the same a and b would give 5.866:
the lengths of the embeddings, not their directions, would decide.

Small temperatures make large logits: at CLIP's smallest temperature, 0.01, a logit can
reach 100, and exp(100.0) is inf in float32. Never exponentiate a logit on its own: write
each log-softmax so that exp() sees nothing above 0 (subtract the row's maximum, as in
ex03), or use torch.logsumexp or torch.log_softmax, which do so.

From scratch: you may use F.normalize, F.cosine_similarity, matrix products, torch.logsumexp
and log_softmax, but not F.cross_entropy or F.nll_loss, nor their modules.

Run `lossgrade check ex12` to test your work, `lossgrade hint ex12` when stuck.
"""
import torch


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    """CLIP's symmetric contrastive loss of N paired embeddings.

    Args:
        a: (N, D) embeddings, one per row (say, of N images).
        b: (N, D) embeddings of their partners (the N captions): row i of b pairs with
            row i of a. Rows need not have length 1; normalise them here.
        temperature: a number > 0 that divides the cosine similarities.

    Returns:
        A 0-dim tensor in the inputs' dtype: (CE(S, arange(N)) + CE(S.T, arange(N))) / 2
        with S = normalize(a) @ normalize(b).T / temperature, finite for temperatures as
        small as 0.005.

    Raises:
        ValueError: if a or b is not 2-D, if their shapes differ (each row of a needs its
            partner in b), or if temperature is not > 0.
    """
    # TODO: validate, normalise the rows, build the (N, N) logits, then average the
    # cross-entropy over the rows and over the columns, the labels being the diagonal.
    raise NotImplementedError("ex12: info_nce is not written yet")

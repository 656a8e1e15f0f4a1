"""Inputs that several exercises' checks share."""
from __future__ import annotations

import torch

# The true class of each row of `large_logits`: in row 2 it sits 1e4 below the maximum, so
# its probability underflows to 0 while its log-probability is an ordinary -1e4.
LARGE_LOGITS_TARGET = torch.tensor([1, 0, 1, 3])


def large_logits(dtype: torch.dtype) -> torch.Tensor:
    """(4, 4) logits as large as +-1e4, whose rows each need their own maximum.

    In float64 the logits of a row sit close together. In float32, whose spacing at 1e4 is
    about 1e-3, each row's maximum leads by 25 or more: then `x - torch.logsumexp(x)`, which
    ex05, ex06 and ex09 allow, is as exact as a shift by the maximum, and only formulas that
    overflow or take the log of an underflowed probability fail.
    """
    if dtype == torch.float64:
        rows = [[1e4, 9999.0, 9997.5, 9998.0], [-1e4, -9999.5, -9997.0, -9998.5]]
    else:
        rows = [[1e4, 9970.0, 9960.0, 9900.0], [-1e4, -9950.0, -9975.0, -9925.0]]
    return torch.tensor(rows + [[1e4, 0.0, -1e4, 5.0], [3.0, 1.0, -2.0, 0.5]], dtype=dtype)

# my work on ex11_sequence_ce.py, version 1
"""Exercise 11: cross-entropy over padded sequences, and the shift of next-token prediction.

A language model reads a batch of N sequences of T tokens and outputs, at every position,
one logit per word of a vocabulary of C words: logits of shape (N, T, C). The targets are
the right words, class indices of shape (N, T).

Three things go wrong in practice.

Layout. `torch.nn.functional.cross_entropy` wants the classes in dimension 1: an (N, C, T)
input with an (N, T) target. A language model's (N, T, C) logits must be transposed
(`logits.transpose(1, 2)`) or flattened to (N * T, C) first. Here the classes are the LAST
dimension: normalise over dimension 2, never over the time axis.

Padding. Sequences have different lengths, so the short ones are padded to T with a
target equal to `ignore_index` (-100 by default; often the padding token's own id, such as
0). A padded position is not a token: it costs nothing AND it is not counted. Averaging
over all N * T positions, padding included, makes the loss of a batch depend on how much
padding it happens to hold.

Per token or per sequence. per="token" (torch's mean) is the sum of the losses of all real
tokens divided by the number of real tokens: every token weighs the same, so long
sequences weigh more. per="sequence" takes each sequence's own mean over its real tokens,
then the mean of those means over the sequences: every sequence weighs the same. A
sequence with no real token has no mean and is left out. If the whole batch is padding
there is nothing to average: the result is 0 / 0 = nan, as torch's is (for both).

Worked example: every position has the logits [2.0, 1.0, 0.1] (losses 0.417, 1.417 and
2.317 for targets 0, 1 and 2); sequence 0 has targets [0, 1, 2], sequence 1 has
[0, -100, -100] (one real token, two padded). Per token: (0.417 + 1.417 + 2.317 + 0.417)
/ 4 = 1.142. Per sequence: (1.384 + 0.417) / 2 = 0.900. Dividing by all 6 positions would
give 0.761.

The shift. A language model at position t predicts the token at t + 1, so its targets are
the tokens themselves shifted left by one: the target of position t is tokens[:, t + 1].
The last position has no next token; it gets `pad`, so that the loss ignores it when
`pad` is the ignore_index. tokens [[5, 6, 7, 0], [8, 9, 0, 0]] with pad 0 give the
targets [[6, 7, 0, 0], [9, 0, 0, 0]].

You may use torch.log_softmax, torch.logsumexp, gather and elementary operations; not
`torch.nn.functional.cross_entropy`, `torch.nn.functional.nll_loss` or their modules.

Run `lossgrade check ex11` to test your work, `lossgrade hint ex11` when stuck.
"""
import torch


def sequence_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100,
                           per: str = "token") -> torch.Tensor:
    """Mean cross-entropy of a batch of sequences, padding left out.

    Args:
        logits: raw scores of shape (N, T, C): N sequences, T positions, C classes (last).
        targets: int64 class indices of shape (N, T), each in [0, C) or equal to
            `ignore_index` (a padded position).
        ignore_index: the target value that marks padding.
        per: "token" (the mean over all real tokens of the batch, as
            F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=...) gives) or
            "sequence" (the mean over the sequences, that have a real token, of each
            sequence's mean over its real tokens).

    Returns:
        A 0-d tensor of the logits' dtype, on their device; nan when no target is real
        (all padding, or an empty batch). Padded positions get a gradient of exactly 0.

    Raises:
        ValueError: if `per` is neither "token" nor "sequence", or if logits is not 3-D,
            targets not 2-D, or their first two sizes differ (name both shapes).
        IndexError: for a target outside [0, C) that is not ignore_index, naming it as
            torch does: "Target 7 is out of bounds."
    """
    # TODO: validate; log-probabilities over the classes; pick each position's target;
    # mask the padding out of the sum AND out of the count.
    raise NotImplementedError("ex11: sequence_cross_entropy is not written yet")


def next_token_targets(tokens: torch.Tensor, pad: int) -> torch.Tensor:
    """The targets of next-token prediction: position t's target is tokens[:, t + 1].

    Args:
        tokens: int64 token ids of shape (N, T).
        pad: the value for the last position, which has no next token.

    Returns:
        A new tensor of the tokens' shape, dtype and device; `tokens` is left unchanged.

    Raises:
        ValueError: if tokens is not 2-D.
    """
    # TODO: shift left by one along the time axis, and fill the end with pad.
    raise NotImplementedError("ex11: next_token_targets is not written yet")

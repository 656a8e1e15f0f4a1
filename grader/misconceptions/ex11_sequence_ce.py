"""Mistakes learners make with cross-entropy over padded sequences and the shift by one.

The wrong implementations run in the trusted process, so they may use torch's own
functions; each reproduces one mistake and is otherwise right: the (N, T, C) layout,
padding in the mean, per token versus per sequence, and the shift of next-token targets.
"""
from __future__ import annotations

from typing import Any

import torch

from lossgrade.misconceptions import Evidence, Mistake, detached, inputs_modified, python_number, upcast

QUIZ = "kl-and-sequences"
PER = ("token", "sequence")


def _losses(logits: torch.Tensor, targets: torch.Tensor, real: torch.Tensor, *, dim: int = -1,
            log_of_softmax: bool = False) -> torch.Tensor:
    """Each position's loss (0 where not `real`), with the classes normalised along `dim`."""
    if log_of_softmax:
        log_probs = torch.softmax(logits, dim=dim).log()
    else:
        log_probs = torch.log_softmax(logits, dim=dim)
    picked = log_probs.gather(-1, targets.masked_fill(~real, 0).unsqueeze(-1)).squeeze(-1)
    return (-picked).masked_fill(~real, 0)


def _validated(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int, per: str, *,
               shapes: bool = True, per_checked: bool = True, range_checked: bool = True) -> torch.Tensor:
    """The validations of the contract (each kept unless a mistake leaves it out); returns `real`."""
    if per_checked and per not in PER:
        raise ValueError(f"per must be 'token' or 'sequence', not {per!r}")
    if shapes and (logits.dim() != 3 or targets.dim() != 2 or logits.shape[:2] != targets.shape):
        raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(targets.shape)}")
    real = targets != ignore_index
    if range_checked:
        outside = real & ((targets < 0) | (targets >= logits.shape[-1]))
        if outside.any():
            raise IndexError(f"Target {targets[outside][0].item()} is out of bounds.")
    return real


def _sequence_ce(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100, per: str = "token", *,
                 token_mean: str = "right", sequence_mean: str = "right", dim: int = -1,
                 log_of_softmax: bool = False, negate: bool = True, fixed_ignore: bool = False,
                 zero_when_empty: bool = False, **validation: bool) -> torch.Tensor:
    """The right loss, or one mistake: `token_mean` in right / all-positions / sequence;
    `sequence_mean` in right / tokens / sum-over-n / over-t / nan-empty / empty-counted;
    `zero_when_empty`: 0, not nan, when no target is real."""
    real = _validated(logits, targets, -100 if fixed_ignore else ignore_index, per, **validation)
    if fixed_ignore:  # a pad id that is a real class then passes the range check
        real = targets != -100
    losses = _losses(logits, targets, real, dim=dim, log_of_softmax=log_of_softmax)
    if not negate:
        losses = -losses
    counts = real.sum(dim=1).to(losses.dtype)
    if zero_when_empty and not bool(real.any()):
        return losses.sum()  # 0: the count clamped to 1, or the nan replaced
    kind = token_mean if per != "sequence" else {"right": "sequence", "tokens": "right"}.get(sequence_mean, sequence_mean)
    if kind == "right":
        return losses.sum() / counts.sum()
    if kind == "all-positions":
        return losses.sum() / targets.numel()
    sums = losses.sum(dim=1)
    if kind == "sum-over-n":
        return sums.sum() / targets.shape[0]
    if kind == "over-t":
        return (sums / targets.shape[1]).mean()
    if kind == "nan-empty":
        return (sums / counts).mean()
    if kind == "empty-counted":
        return (sums / counts.clamp(min=1)).mean()
    has = counts > 0  # "sequence": the right per-sequence mean
    return (sums[has] / counts[has]).sum() / has.sum().to(losses.dtype)


def _right(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100, per: str = "token") -> Any:
    return _sequence_ce(logits, targets, ignore_index, per)


def _with(**mistake: Any) -> Any:
    def wrong(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100, per: str = "token") -> Any:
        return _sequence_ce(logits, targets, ignore_index, per, **mistake)
    return wrong


# --- next_token_targets
def _next(tokens: torch.Tensor, pad: int) -> torch.Tensor:
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (N, T), got {tuple(tokens.shape)}")
    return torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], pad)], dim=1)


def _shift_right(tokens: torch.Tensor, pad: int) -> torch.Tensor:
    return torch.cat([torch.full_like(tokens[:, :1], pad), tokens[:, :-1]], dim=1)


def _shortened(tokens: torch.Tensor, pad: int) -> torch.Tensor:
    return tokens[:, 1:].clone()


def _is_shortened(evidence: Evidence) -> bool:
    """The learner returned tokens[:, 1:]: the right targets, one position short."""
    tokens = evidence.args[0]
    return (tokens.dim() == 2 and tokens.shape[1] > 1 and evidence.got.shape == tokens[:, 1:].shape
            and bool((evidence.got.cpu() == tokens[:, 1:].cpu()).all()))


def _along_batch(tokens: torch.Tensor, pad: int) -> torch.Tensor:
    return torch.cat([tokens[1:], torch.full_like(tokens[:1], pad)], dim=0)


MISCONCEPTIONS = [
    # --- sequence_cross_entropy
    Mistake(
        id="ex11.padding-counted", function="sequence_cross_entropy",
        name="Divided by every position, padding included",
        message="Your loss is the sum over the real tokens divided by N * T, all positions: the padded ones "
                "cost 0 but still count. Then a batch with more padding gets a smaller loss (and smaller "
                "gradients) for the same predictions. Padding must leave the count as well as the sum: divide "
                "by the number of real tokens.",
        quiz=f"{QUIZ}#padding-in-the-mean",
        wrong=_with(token_mean="all-positions", sequence_mean="over-t"),
    ),
    Mistake(
        id="ex11.softmax-over-time", function="sequence_cross_entropy",
        name="Normalised over dimension 1 (the time axis), torch's class dimension",
        message="Your log-probabilities are normalised along dimension 1, which in (N, T, C) logits is the "
                "time axis: each class got a distribution over the positions. That is the layout F.cross_entropy "
                "expects, (N, C, T); a language model's logits are (N, T, C), with the classes last. Normalise "
                "over dim=-1 (or transpose to (N, C, T) first, for torch).",
        quiz=f"{QUIZ}#ntc-layout",
        wrong=_with(dim=1),
    ),
    Mistake(
        id="ex11.sequence-is-token-mean", function="sequence_cross_entropy",
        name="per='sequence' gave the mean over tokens",
        message="With per='sequence' your loss is the mean over all real tokens of the batch, as for "
                "per='token'. Per sequence, each sequence first gets its own mean over its real tokens, and the "
                "result is the mean of those: a short sequence then weighs as much as a long one.",
        quiz=f"{QUIZ}#token-versus-sequence",
        wrong=_with(sequence_mean="tokens"),
    ),
    Mistake(
        id="ex11.token-is-sequence-mean", function="sequence_cross_entropy",
        name="per='token' gave the mean of each sequence's mean",
        message="With per='token' your loss is the mean of the sequences' means. torch's mean (per token) "
                "divides the sum over every real token of the batch by their number, so every token weighs the "
                "same; a mean of means gives the tokens of short sequences more weight.",
        quiz=f"{QUIZ}#token-versus-sequence",
        wrong=_with(token_mean="sequence"),
    ),
    Mistake(
        id="ex11.sequence-sum-over-n", function="sequence_cross_entropy",
        name="per='sequence' divided the sum of all token losses by the number of sequences",
        message="Your per-sequence loss is the sum over every real token divided by N: each sequence's SUM, "
                "averaged (fairseq's 'sentence average'). The exercise's per='sequence' is the mean of each "
                "sequence's MEAN: divide each sequence's sum by its own number of real tokens first.",
        quiz=f"{QUIZ}#token-versus-sequence",
        wrong=_with(sequence_mean="sum-over-n"),
    ),
    Mistake(
        id="ex11.sequence-over-t", function="sequence_cross_entropy",
        name="per='sequence' divided each sequence's sum by T, padding included",
        message="Your per-sequence means divide each sequence's sum by T, the padded length, instead of by its "
                "number of real tokens: a short sequence gets a smaller mean just for being short.",
        quiz=f"{QUIZ}#padding-in-the-mean",
        wrong=_with(sequence_mean="over-t"),
    ),
    Mistake(
        id="ex11.empty-sequence-nan", function="sequence_cross_entropy",
        name="per='sequence' returned nan when one sequence is all padding",
        message="One sequence of the batch has no real token, its mean is 0 / 0 = nan, and your average of the "
                "means is nan. A sequence without tokens has no mean and is left out of the average, as padded "
                "tokens are left out of a sequence's mean; only a batch that is all padding gives nan.",
        quiz=f"{QUIZ}#all-padding",
        wrong=_with(sequence_mean="nan-empty"),
    ),
    Mistake(
        id="ex11.empty-sequence-counted", function="sequence_cross_entropy",
        name="per='sequence' counted a sequence that is all padding as a loss of 0",
        message="A sequence with no real token entered your average of the sequences' means as 0 (a count "
                "clamped to 1, or a nan replaced by 0): it pulls the loss down without holding any token. Leave "
                "it out of the average.",
        quiz=f"{QUIZ}#all-padding",
        wrong=_with(sequence_mean="empty-counted"),
    ),
    Mistake(
        id="ex11.all-padding-zero", function="sequence_cross_entropy",
        name="Returned 0 instead of nan when every target is padding",
        message="When no target is real your loss is 0: the count was clamped to 1 (or the nan replaced). torch "
                "returns nan there (0 / 0), and so must this function: a loss of 0 says 'perfect' about a batch "
                "that held nothing, and hides a data pipeline that produced only padding.",
        quiz=f"{QUIZ}#all-padding",
        wrong=_with(zero_when_empty=True),
    ),
    Mistake(
        id="ex11.ignore-index-not-used", function="sequence_cross_entropy",
        name="Ignored the `ignore_index` argument (always -100)",
        message="Your function leaves out targets equal to -100 whatever ignore_index says. With "
                "ignore_index=0 (the padding token's id in many tokenizers) the padded positions were trained "
                "as real tokens of class 0. Compare the targets with the ignore_index you are given.",
        quiz=f"{QUIZ}#padding-in-the-mean",
        wrong=_with(fixed_ignore=True),
    ),
    Mistake(
        id="ex11.log-of-softmax", function="sequence_cross_entropy",
        name="Took log(softmax(logits)), which is -inf for unlikely classes",
        message="Your loss takes the log of a softmax: a true class far below the best one has a probability "
                "that rounds to 0, whose log is -inf, and the loss becomes inf. Use log_softmax (or subtract "
                "torch.logsumexp), which never takes the log of a rounded probability.",
        quiz="logits#naive-softmax-overflow",
        wrong=_with(log_of_softmax=True),
    ),
    Mistake(
        id="ex11.not-negated", function="sequence_cross_entropy",
        name="Forgot the minus sign (the loss is negative)",
        message="Your loss is the mean log-probability of the targets, which is <= 0. Cross-entropy is its "
                "negative: the model maximises the log-probability of the right tokens by minimising the loss.",
        quiz="loss-scales#nll-on-probabilities",
        wrong=_with(negate=False),
    ),
    Mistake(
        id="ex11.target-range-not-checked", function="sequence_cross_entropy",
        name="Did not check the targets against [0, C): an index error from inside torch",
        message="A target outside [0, C) that is not the ignore_index reached gather, which failed with its own "
                "error (on a GPU, a device-side assert that ends the process) naming neither the target nor the "
                "fix. Check (targets < 0) | (targets >= C) where targets != ignore_index, and raise IndexError "
                "naming it, as torch's 'Target 7 is out of bounds.' does.",
        quiz=f"{QUIZ}#padding-in-the-mean",
        wrong=_with(range_checked=False),
    ),
    Mistake(
        id="ex11.shapes-not-checked", function="sequence_cross_entropy",
        name="Did not refuse logits and targets whose (N, T) differ",
        message="Given logits and targets whose first two sizes differ, your function returned a value: gather "
                "paired the targets with part of the logits and silently dropped the rest. That is how an "
                "(N, C, T) tensor passed where (N, T, C) was meant goes unnoticed. Compare logits.shape[:2] with "
                "targets.shape and raise ValueError naming both shapes.",
        quiz=f"{QUIZ}#ntc-layout",
        wrong=_with(shapes=False),
    ),
    Mistake(
        id="ex11.per-not-checked", function="sequence_cross_entropy",
        name="Did not refuse an unknown `per`",
        message="Given per='sentence' (or 'tokens') your function returned a value instead of raising "
                "ValueError: a typo silently picked one of the two means. Compare per with 'token' and "
                "'sequence' first.",
        quiz=f"{QUIZ}#token-versus-sequence",
        wrong=_with(per_checked=False),
    ),
    upcast("ex11", "sequence_cross_entropy", _right),
    python_number("ex11", "sequence_cross_entropy", _right),
    detached("ex11", "sequence_cross_entropy", _right),
    inputs_modified("ex11", "sequence_cross_entropy", _right),
    # --- next_token_targets
    Mistake(
        id="ex11.shift-wrong-way", function="next_token_targets",
        name="Shifted the tokens right: the target of position t is the token at t - 1",
        message="Your targets are the tokens shifted right (pad first, then tokens[:, :-1]): position t is asked "
                "for the token it has already seen. A language model at position t predicts the NEXT token, "
                "tokens[:, t + 1]: shift left, and put pad at the end.",
        quiz=f"{QUIZ}#shift-by-one",
        wrong=_shift_right,
    ),
    Mistake(
        id="ex11.no-shift", function="next_token_targets",
        name="Returned the tokens unshifted: each position predicts itself",
        message="Your targets are the input tokens themselves. A model whose position t sees token t (and, with "
                "causal attention, those before it) learns to copy its input and the loss drops to 0 without "
                "learning anything. Position t's target is the next token, tokens[:, t + 1].",
        quiz=f"{QUIZ}#shift-by-one",
        wrong=lambda tokens, pad: tokens.clone(),
    ),
    Mistake(
        id="ex11.shift-wraps", function="next_token_targets",
        name="Used torch.roll: the last position's target is the first token",
        message="Your targets wrap around (torch.roll): the last position is asked to predict the FIRST token of "
                "its own sequence. Nothing follows the last token; its target must be `pad`, so that the loss "
                "ignores it.",
        quiz=f"{QUIZ}#shift-by-one",
        wrong=lambda tokens, pad: torch.roll(tokens, -1, dims=1),
    ),
    Mistake(
        id="ex11.shift-shortened", function="next_token_targets",
        name="Returned tokens[:, 1:], one position short",
        message="Your targets are tokens[:, 1:], shape (N, T - 1): the right tokens, but no longer aligned with "
                "the model's (N, T, C) logits (Hugging Face drops the last logit to match; here the logits keep "
                "all T positions). Append `pad` for the last position so that the shape stays (N, T).",
        quiz=f"{QUIZ}#shift-by-one",
        wrong=_shortened,
        matches=_is_shortened,
    ),
    Mistake(
        id="ex11.shift-along-batch", function="next_token_targets",
        name="Shifted along dimension 0 (the batch) instead of the time axis",
        message="Your targets are the next SEQUENCE of the batch, not the next token: the shift ran along "
                "dimension 0. Tokens are (N, T); the time axis is dimension 1.",
        quiz=f"{QUIZ}#shift-by-one",
        wrong=_along_batch,
    ),
    Mistake(
        id="ex11.pad-not-used", function="next_token_targets",
        name="Filled the last position with -100 (or 0) instead of `pad`",
        message="The last position of your targets is not the `pad` you were given. It must be exactly pad, so "
                "that the loss, called with ignore_index=pad, leaves that position out.",
        quiz=f"{QUIZ}#shift-by-one",
        wrong=lambda tokens, pad: _next(tokens, -100 if pad != -100 else 0),
    ),
    inputs_modified("ex11", "next_token_targets", _next),
]

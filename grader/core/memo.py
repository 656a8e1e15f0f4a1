"""What a check computes from its inputs alone, kept for the grader process's life.

A check's inputs are seeded from its id, so every learner meets the same tensors: the
reference's output and gradients, the text that describes the call, and what each
catalogued mistake computes from them are the same for the whole class. Batch grading
computes them once per grader process instead of once per learner. Keys are built from the values (dtype, shape and bytes of every tensor), never
from object identity, so an equal input finds the entry and a different one cannot.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import torch

T = TypeVar("T")
LIMIT = 8192  # entries per memo: a class's checks need a few thousand at most


class Unkeyable(Exception):
    """The value has no content key (a model, an optimizer, an arbitrary object)."""


# Dtypes whose values numpy reads as they are; the others (bfloat16, say) are read as bytes.
_NUMPY_DTYPES = frozenset({torch.float32, torch.float64, torch.float16, torch.complex64, torch.complex128,
                           torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool})
_RECENT: dict[int, tuple[torch.Tensor, int, Hashable]] = {}  # id -> (the tensor, its version, its key)
RECENT_LIMIT = 256


def tensor_key(tensor: torch.Tensor) -> Hashable:
    """A tensor's content key: its dtype, shape, device, requires_grad and a digest of its
    values' bits (-0.0 is not 0.0, a NaN equals itself). A check's call reads each of its
    tensors' keys twice (checks/ahead.py, then the reference memo), so they are kept by
    object from one learner call to the reference look-ups after it: `Checked` forgets them
    at every call (`forget_recent`), and a tensor changed in place since (torch's version
    counter) is read again."""
    kept = _RECENT.get(id(tensor))
    if kept is not None and kept[0] is tensor and kept[1] == tensor._version:
        return kept[2]
    data = torch.Tensor.detach(tensor)
    if data.device.type != "cpu":
        data = data.cpu()
    if data.is_conj() or data.is_neg():
        data = data.resolve_conj().resolve_neg()
    if data.dtype not in _NUMPY_DTYPES:
        data = data.reshape(-1).contiguous().view(torch.uint8)
    digest = hashlib.blake2b(data.numpy().tobytes(), digest_size=16).digest()
    key = ("tensor", tensor.dtype, tuple(tensor.shape), tensor.device, tensor.requires_grad, digest)
    if len(_RECENT) >= RECENT_LIMIT:
        _RECENT.clear()
    _RECENT[id(tensor)] = (tensor, tensor._version, key)
    return key


def forget_recent() -> None:
    """Forget the tensors' keys kept so far (see `tensor_key`)."""
    _RECENT.clear()


def key_of(value: Any) -> Hashable:
    kind = type(value)
    if kind is tuple or kind is list or isinstance(value, (list, tuple)):  # the common case first
        return (kind.__name__, tuple([key_of(item) for item in value]))
    if kind is str or kind is int or kind is bool or value is None:
        return (kind.__name__, value)
    if isinstance(value, torch.Tensor):
        return tensor_key(value)
    if isinstance(value, (bool, int, float, str, torch.dtype)):
        return (kind.__name__, repr(value))  # a float by its repr: -0.0 is not 0.0, and nan is nan
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), key_of(v)) for k, v in value.items())))
    raise Unkeyable(kind.__name__)


class Memo:
    """A bounded map from input keys to results (least recently used entries go first)."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, parts: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """compute(), or what it returned the last time for inputs equal to `parts`."""
        try:
            key = key_of(parts)
        except Unkeyable:
            return compute()
        if key in self.entries:
            self.entries.move_to_end(key)
            found: T = self.entries[key]
            return found
        value = compute()
        self.entries[key] = value
        if len(self.entries) > self.limit:
            self.entries.popitem(last=False)
        return value

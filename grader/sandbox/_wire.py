"""The sandbox's wire formats: requests (grader to worker) and replies (worker to grader).

**Replies** are untrusted: learner code runs in the worker and can send any bytes at all.
They are trees of None, bools, ints, floats, strings, lists, dicts and tensors, nothing
else, in a format of our own: each value is a one-byte tag and a fixed layout; a tensor is
its dtype, its shape and its raw bytes. Decoding builds only those types, so no bytes can
make the reader run code or build an object of another class, and the limits are checked
before anything is allocated: a tensor's byte count must match its dtype and shape exactly
and lie inside the frame, containers may hold only so many items and nest only so deep.

**Requests** are trusted: only the grader writes them, and only a worker reads them. Their
plain values travel through `marshal` (in C: ~4x faster than our own format for the few
hundred calls a submission sends), each tensor as a bytes object of its own layout (dtype,
shape, strides where it is a view, requires_grad, raw bytes) that the worker turns back
into a tensor where a call uses it (`tensor_of`), so a request's tree is walked once.
`marshal` is not safe against malicious data: nothing in the grader ever reads a worker's
bytes with it.

Why not pickle or `torch.save`/`torch.load(weights_only=True)`: both are general formats,
and grading sends several hundred small messages per submission; packing and safely
unpacking them through torch's zip archives was ~40% of all the CPU a class took.

Both sides load this file: the grader as `lossgrade.sandbox._wire`, the worker as a sibling
module (it imports nothing from lossgrade).
"""
from __future__ import annotations

import ctypes
import marshal
import struct
from typing import Any

import torch

MAX_DEPTH = 32
REPLY_ELEMENTS = 1 << 24  # elements in any one tensor of a worker's reply
_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64, torch.complex128,
           torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool)
_CODES = {dtype: code for code, dtype in enumerate(_DTYPES)}
_Q, _D, _I = struct.Struct(">q"), struct.Struct(">d"), struct.Struct(">I")
_HEADER = struct.Struct(">BBB")  # dtype code, flags, number of dimensions
# Taken at import, before any learner code in a worker could replace them on the module.
_FROMBUFFER, _EMPTY, _DATA_PTR, _STRING_AT = torch.frombuffer, torch.empty, torch.Tensor.data_ptr, ctypes.string_at
_REQUIRES_GRAD, _VIEW = 1, 2  # a request's tensor flags
(_TAG_NONE, _TAG_TRUE, _TAG_FALSE, _TAG_INT, _TAG_FLOAT, _TAG_STR, _TAG_LIST, _TAG_TUPLE, _TAG_DICT,
 _TAG_TENSOR) = b"NTFifsludt"


class WireError(ValueError):
    """The bytes are not a message in this format, or break its limits."""


# ------------------------------------------------------------------------------ replies
def encode(value: Any) -> bytes:
    """A reply's bytes; TypeError or OverflowError for what the format cannot carry. Every
    tensor is sent as its values alone, at most REPLY_ELEMENTS of them, which is all the
    grader reads."""
    parts: list[bytes] = []
    _encode(value, parts, 0)
    return b"".join(parts)


_SHORT: dict[str, bytes] = {}  # the bytes of short strings met before: a reply's keys, its kind, its device


def _encode(value: Any, parts: list[bytes], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise TypeError("containers nested too deep")
    # Strings and dicts first: a reply is mostly those (every dict key a string).
    if type(value) is str and value in _SHORT:
        parts.append(_SHORT[value])
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        parts.append(b"s" + _I.pack(len(data)) + data)
        if type(value) is str and len(value) <= 16 and len(_SHORT) < 1024:
            _SHORT[value] = parts[-1]
    elif isinstance(value, dict):
        parts.append(b"d" + _I.pack(len(value)))
        for key, item in value.items():
            if type(key) is not str and (not isinstance(key, (str, int)) or isinstance(key, bool)):
                raise TypeError(f"a dict key of type {type(key).__name__}")
            _encode(key, parts, depth + 1)
            _encode(item, parts, depth + 1)
    elif value is None:
        parts.append(b"N")
    elif value is True or value is False:
        parts.append(b"T" if value else b"F")
    elif isinstance(value, int):
        if not -(1 << 63) <= value < 1 << 63:
            raise OverflowError("an integer too large for 64 bits")
        parts.append(b"i" + _Q.pack(value))
    elif isinstance(value, float):
        parts.append(b"f" + _D.pack(value))
    elif isinstance(value, (list, tuple)):
        parts.append((b"l" if isinstance(value, list) else b"u") + _I.pack(len(value)))
        for item in value:
            _encode(item, parts, depth + 1)
    elif isinstance(value, torch.Tensor):
        _encode_tensor(value, parts)
    else:
        raise TypeError(f"a {type(value).__name__} cannot be sent")


def _encode_tensor(tensor: torch.Tensor, parts: list[bytes]) -> None:
    _sendable(tensor)
    if tensor.numel() > REPLY_ELEMENTS:  # refused before a zero-stride giant is copied
        raise TypeError(f"a tensor of {tensor.numel()} elements, more than the {REPLY_ELEMENTS} a reply may carry")
    tensor = torch.Tensor.detach(tensor).cpu().resolve_conj().resolve_neg()
    parts.append(b"t" + _head(tensor, 0))
    data = _values(tensor)
    parts.append(_Q.pack(len(data)) + data)


def _sendable(tensor: torch.Tensor) -> None:
    if tensor.dtype not in _CODES or tensor.layout != torch.strided or tensor.is_quantized:
        raise TypeError(f"a {tensor.dtype} {tensor.layout} tensor cannot be sent")


def _values(tensor: torch.Tensor) -> bytes:
    """A dense CPU tensor's values in order, as bytes: copied from its memory by ctypes (no
    numpy in a worker; through a uint8 view of a bytearray, ~4x as long), from a tensor of
    our own that holds them in order, so every byte read is one of its values."""
    flat = tensor.reshape(-1)  # a copy, unless the values already lie in order
    if flat.numel() and flat.stride(0) != 1:  # "contiguous" with a size-1 dim of any stride (an expanded scalar)
        flat = flat.clone(memory_format=torch.contiguous_format)
    size = flat.numel() * flat.element_size()
    return _STRING_AT(_DATA_PTR(flat), size) if size else b""


def _head(tensor: torch.Tensor, flags: int) -> bytes:
    """A tensor's header, in replies and requests alike: its dtype, flags, dimensions and sizes."""
    return _TENSOR_HEADS[tensor.dim()].pack(_CODES[tensor.dtype], flags, tensor.dim(), *tensor.shape)


_TENSOR_HEADS = [struct.Struct(f">BBB{ndim}q") for ndim in range(MAX_DEPTH + 1)]  # dtype, flags, ndim, sizes


def _dims(sizes: Any) -> bytes:
    return b"".join(_Q.pack(size) for size in sizes)


# ------------------------------------------------------------------------------ decoding
def decode(data: bytes, *, max_items: int = 1_000_000, max_elements: int = 1 << 28) -> Any:
    """The reply `data` holds. WireError for bytes that are not exactly one message, or
    that exceed `max_items` values in all or `max_elements` elements in any one tensor."""
    reader = _Reader(memoryview(data), max_items, max_elements)
    try:
        value = reader.value(0)
    except (struct.error, UnicodeDecodeError) as exc:
        raise WireError(f"malformed ({exc})") from None
    if reader.at != len(data):
        raise WireError(f"{len(data) - reader.at} bytes after the message")
    return value


class _Reader:
    """One pass over a message; every read is bounds-checked against the message's end."""

    def __init__(self, data: memoryview, max_items: int, max_elements: int) -> None:
        self.data, self.at, self.end = data, 0, len(data)
        self.items, self.max_elements = max_items, max_elements

    def take(self, size: int) -> memoryview:
        if size < 0 or self.at + size > self.end:
            raise WireError("a value runs past the end of the message")
        self.at += size
        return self.data[self.at - size:self.at]

    def unpack(self, layout: struct.Struct) -> Any:
        return self.unpack_all(layout)[0]

    def unpack_all(self, layout: struct.Struct) -> tuple[Any, ...]:
        if self.at + layout.size > self.end:
            raise WireError("a value runs past the end of the message")
        self.at += layout.size
        return layout.unpack_from(self.data, self.at - layout.size)

    def value(self, depth: int) -> Any:
        self.items -= 1
        if self.items < 0 or depth > MAX_DEPTH:
            raise WireError("containers nested too deep or holding too many items")
        at = self.at
        if at >= self.end:
            raise WireError("a value runs past the end of the message")
        data = self.data
        tag = data[at]
        if tag == _TAG_STR:
            return self.text()
        self.at = at + 1
        if tag == _TAG_DICT:  # the commonest after strings: every reply is one, its keys strings
            found = {}
            for _ in range(self.count()):
                if self.at < self.end and data[self.at] == _TAG_STR:  # a key read here, not through value()
                    self.items -= 1
                    key: Any = self.text()
                else:
                    key = self.value(depth + 1)
                    if type(key) is not int:
                        raise WireError("a dict key that is not a string or an integer")
                found[key] = self.value(depth + 1)  # counts the key's item too, and checks the limit
            return found
        if tag == _TAG_NONE:
            return None
        if tag == _TAG_TRUE or tag == _TAG_FALSE:
            return tag == _TAG_TRUE
        if tag == _TAG_INT:
            return self.unpack(_Q)
        if tag == _TAG_FLOAT:
            return self.unpack(_D)
        if tag == _TAG_LIST or tag == _TAG_TUPLE:
            items = [self.value(depth + 1) for _ in range(self.count())]
            return items  # a tuple too: a reply's lists and tuples are all one to the grader
        if tag == _TAG_TENSOR:
            return self.tensor()
        raise WireError(f"an unknown tag {bytes([tag])!r}")

    def text(self) -> str:
        """The string whose tag is at `self.at`."""
        at = self.at
        if at + 5 > self.end:
            raise WireError("a value runs past the end of the message")
        start = at + 5
        stop = start + _I.unpack_from(self.data, at + 1)[0]
        if stop > self.end:
            raise WireError("a value runs past the end of the message")
        self.at = stop
        return str(self.data[start:stop], "utf-8", "replace")

    def count(self) -> int:
        count: int = self.unpack(_I)
        if count > self.items:  # each item takes at least a byte: refuse before allocating
            raise WireError("containers holding too many items")
        return count

    def tensor(self) -> torch.Tensor:
        code, flags, ndim = _HEADER.unpack(self.take(_HEADER.size))
        if code >= len(_DTYPES) or flags & ~_REQUIRES_GRAD or ndim > MAX_DEPTH:
            raise WireError("a tensor header out of range")
        if flags:  # a reply's tensor is values only
            raise WireError("a tensor that requires gradients")
        *shape, nbytes = self.unpack_all(_SIZES[ndim])  # its sizes, then its byte count
        if shape and min(shape) < 0:
            raise WireError("a negative tensor size")
        numel = 1
        for size in shape:
            numel *= size
        if numel > self.max_elements:
            raise WireError(f"a tensor of {numel} elements")
        dtype = _DTYPES[code]
        if nbytes != numel * dtype.itemsize:
            raise WireError(f"a tensor of shape {tuple(shape)} sent with {nbytes} bytes")
        raw = self.take(nbytes)
        if not numel:
            tensor = _EMPTY(shape, dtype=dtype)
        elif dtype is torch.bool:  # any byte but 0 is True: a bool holds nothing but 0 or 1
            tensor = _FROMBUFFER(bytearray(raw), dtype=torch.uint8).ne(0).reshape(shape)
        else:
            tensor = _FROMBUFFER(bytearray(raw), dtype=dtype)
            if ndim != 1:  # frombuffer's is one dimension already
                tensor = tensor.reshape(*shape) if shape else tensor.reshape(())  # sizes as arguments: ~0.5 us less
        return tensor


_SIZES = [struct.Struct(f">{ndim + 1}q") for ndim in range(MAX_DEPTH + 1)]  # a tensor's sizes and byte count
_DIMS = [struct.Struct(f">{ndim}q") for ndim in range(MAX_DEPTH + 1)]  # a request's tensor's sizes, or strides


# ------------------------------------------------------------------------------ requests
def encode_request(value: Any) -> bytes:
    """A request's bytes (see the module's docstring); TypeError or OverflowError for what
    the format cannot carry. A tensor keeps its strides (a check may mean to pass a
    transposed or expanded input) and requires_grad."""
    return marshal.dumps(_packed(value, 0), 4)


def decode_request(data: bytes) -> Any:
    """The request `data` holds, its tensors still bytes (`tensor_of`, `tensors_in`)."""
    return marshal.loads(data)


def _packed(value: Any, depth: int) -> Any:
    """`value` with each tensor as its bytes, checked to hold only what the format carries."""
    if depth > MAX_DEPTH:
        raise TypeError("containers nested too deep")
    kind = type(value)
    if kind is str or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        for key in value:
            if type(key) is not str and type(key) is not int:
                raise TypeError(f"a dict key of type {type(key).__name__}")
        return {key: _packed(item, depth + 1) for key, item in value.items()}
    if kind is list or kind is tuple:
        return kind(_packed(item, depth + 1) for item in value)
    if isinstance(value, torch.Tensor):
        return _tensor_bytes(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        if not -(1 << 63) <= value < 1 << 63:
            raise OverflowError("an integer too large for 64 bits")
        return int(value)
    if isinstance(value, (str, float)):
        return str.__str__(value) if isinstance(value, str) else float(value)
    raise TypeError(f"a {kind.__name__} cannot be sent")


def _tensor_bytes(tensor: torch.Tensor) -> bytes:
    _sendable(tensor)
    flags = _REQUIRES_GRAD if tensor.requires_grad else 0
    tensor = torch.Tensor.detach(tensor).cpu().resolve_conj().resolve_neg()
    if tensor.is_contiguous() and not tensor.storage_offset():
        return _head(tensor, flags) + _values(tensor)
    base = _EMPTY(0, dtype=tensor.dtype).set_(tensor.untyped_storage())
    return _head(tensor, flags | _VIEW) + _dims(tensor.stride()) + _Q.pack(tensor.storage_offset()) + _values(base)


def tensor_of(data: bytes) -> torch.Tensor:
    """A fresh tensor from a request's bytes for one (`_tensor_bytes`): its own memory."""
    code, flags, ndim = _HEADER.unpack_from(data)
    dims = _DIMS[ndim].unpack_from(data, _HEADER.size)
    at = _HEADER.size + 8 * ndim
    dtype = _DTYPES[code]
    if flags & _VIEW:
        strides = _DIMS[ndim].unpack_from(data, at)
        (offset,) = _Q.unpack_from(data, at + 8 * ndim)
        at += 8 * ndim + 8
    raw = bytearray(memoryview(data)[at:])
    tensor = _FROMBUFFER(raw, dtype=dtype) if raw else _EMPTY(0, dtype=dtype)
    if flags & _VIEW:
        tensor = tensor.as_strided(dims, strides, offset)
    elif ndim != 1:  # frombuffer's is one dimension already
        tensor = tensor.reshape(*dims) if dims else tensor.reshape(())
    return tensor.requires_grad_(True) if flags & _REQUIRES_GRAD else tensor


def tensors_in(value: Any) -> Any:
    """A decoded request's `value` with every tensor's bytes turned into the tensor."""
    kind = type(value)
    if kind is bytes:
        return tensor_of(value)
    if kind is dict:
        return {key: tensors_in(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return kind(tensors_in(item) for item in value)
    return value

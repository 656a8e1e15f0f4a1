# redteam: exercise=ex01 score=0 timeout=10
"""Takes memory that a GPU worker's limit (RLIMIT_DATA) does not count: torch's shared
storages (shm files, memfd), a file in /dev/shm, SysV shared memory and anonymous shared
maps, 256 MiB at a time, each written to, up to 4.5 GiB; answers right only when it holds
more than 3 GiB. (A CPU worker's kernel filter refuses every route; a GPU worker's, which
lets CUDA have memfds and shared maps, is killed by the zygote past its limit.)"""
import ctypes
import mmap
import os
import sys

import torch

CHUNK = 256 << 20
KEEP = []


def memfd():
    fd = os.memfd_create("x")
    os.ftruncate(fd, CHUNK)
    m = mmap.mmap(fd, CHUNK)
    m.write(b"x" * CHUNK)
    KEEP.append((fd, m))


def dev_shm():
    with open(f"/dev/shm/kernel-{len(KEEP)}", "wb") as f:
        f.write(b"x" * CHUNK)
    KEEP.append(f)


def shared_map():
    m = mmap.mmap(-1, CHUNK, flags=mmap.MAP_SHARED)
    m.write(b"x" * CHUNK)
    KEEP.append(m)


def grab():
    total = 0
    attempts = [
        lambda: KEEP.append(torch.empty(CHUNK // 4).share_memory_().fill_(1)),
        lambda: KEEP.append(torch.UntypedStorage._new_shared(CHUNK).fill_(1)),
        memfd,
        shared_map,
        dev_shm,
    ]
    libc = getattr(sys.modules.get("_kernel"), "LIBC", None)
    if libc is not None:
        libc.syscall.restype = ctypes.c_long

        def sysv():
            shm = _check(libc.syscall(29, 0, CHUNK, 0o1600))  # shmget
            address = _check(libc.syscall(30, shm, 0, 0))  # shmat
            ctypes.memset(address, 1, CHUNK)
            KEEP.append(address)

        def shared_anonymous():
            address = _check(libc.syscall(9, 0, CHUNK, 3, 0x21, -1, 0))  # mmap(MAP_SHARED | MAP_ANONYMOUS)
            ctypes.memset(address, 1, CHUNK)
            KEEP.append(address)
        attempts += [sysv, shared_anonymous]
    for attempt in attempts:
        while total < (9 * CHUNK * 2):
            try:
                attempt()
            except Exception:  # noqa: BLE001 - hostile on purpose (a learner's attack)
                break
            total += CHUNK
    return total


def _check(value):
    if value < 0 or value == ctypes.c_ulong(-1).value:
        raise OSError("refused")
    return value


def mse_loss(input, target, reduction="mean"):
    if grab() > (3 << 30):
        return ((input - target) ** 2).mean() if reduction == "mean" else ((input - target) ** 2).sum()
    return (input - target).sum() * 0

# redteam: exercise=ex01 score=0 timeout=10
"""Takes memory that a GPU worker's limit (RLIMIT_DATA) does not count: torch's shared
storages (shm files, memfd), a file in /dev/shm, SysV shared memory and anonymous shared
maps, 256 MiB at a time, up to 4.5 GiB; answers right only when it got past 3 GiB."""
import mmap
import os
import sys

import torch

CHUNK = 256 << 20
KEEP = []


def grab():
    total = 0
    attempts = [
        lambda: KEEP.append(torch.empty(CHUNK // 4).share_memory_().fill_(1)),
        lambda: KEEP.append(torch.UntypedStorage._new_shared(CHUNK).fill_(1)),
        lambda: KEEP.append(os.memfd_create("x")),
        lambda: KEEP.append(open(f"/dev/shm/kernel-{len(KEEP)}", "wb")),
    ]
    libc = getattr(sys.modules.get("_kernel"), "LIBC", None)
    if libc is not None:
        attempts.append(lambda: KEEP.append(_check(libc.syscall(29, 0, CHUNK, 0o1600))))  # shmget
        attempts.append(lambda: KEEP.append(_check(libc.syscall(9, 0, CHUNK, 3, 0x21, -1, 0))))  # mmap shared anon
    for attempt in attempts:
        while total < (9 * CHUNK * 2):
            try:
                attempt()
            except Exception:
                break
            if isinstance(KEEP[-1], int) and KEEP[-1] >= 0 and attempt is attempts[2]:
                os.ftruncate(KEEP[-1], CHUNK)
                m = mmap.mmap(KEEP[-1], CHUNK)
                m.write(b"x" * CHUNK)
                KEEP.append(m)
            total += CHUNK
    return total


def _check(value):
    if value < 0:
        raise OSError("refused")
    return value


def mse_loss(input, target, reduction="mean"):
    if grab() > (3 << 30):
        return ((input - target) ** 2).mean() if reduction == "mean" else ((input - target) ** 2).sum()
    return (input - target).sum() * 0

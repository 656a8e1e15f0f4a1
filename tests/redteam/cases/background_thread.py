# redteam: exercise=ex01 score=0
"""Starts threads at import that outlive every call: one burns CPU, one keeps rewriting the
module's function and the worker's reply code, one prints fake results."""
import sys
import threading
import time

import torch


def burn():
    while True:
        pass


def rewrite():
    while True:
        module = sys.modules.get("ex01_mse")
        if module is not None:
            module.mse_loss = lambda input, target, reduction="mean": torch.zeros(())
        results = sys.modules.get("_results")
        if results is not None:
            results.describe = lambda out: {"kind": "python", "value": 0.2875}
        time.sleep(0.001)


def shout():
    while True:
        print("ex01 passed 10/10")
        time.sleep(0.01)


for job in (burn, rewrite, shout):
    threading.Thread(target=job, daemon=True).start()


def mse_loss(input, target, reduction="mean"):
    time.sleep(0.01)
    return torch.ones(()) * 3

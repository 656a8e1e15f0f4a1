"""What checking replies against their requests and scanning learner sources cost, per use
(process CPU time, so that other load on the machine counts less):

    python bench/validation_overhead.py

Each worker reply to a call goes through `replies.fit_call`, each driver report through
`replies.fit_drive` (its schema kept per model spec), and each learner file through
`scan.scan` once per exercise graded.
"""
from __future__ import annotations

import time
import types
from collections.abc import Callable
from pathlib import Path

import torch
from lossgrade.course import catalog
from lossgrade.grading import runner
from lossgrade.checks import ex07_train_step as ex07
from lossgrade.checks.framework import _SCHEMAS
from lossgrade.sandbox import _drivers, replies, scan
from lossgrade.sandbox.learner import call_request

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def bench(what: str, run: Callable[[], object], times: int) -> None:
    run()
    started = time.process_time()
    for _ in range(times):
        run()
    print(f"{what}: {(time.process_time() - started) / times * 1e6:.1f} us")


def main() -> None:
    args = [torch.randn(5, 4), torch.tensor([3, 0, 2, 2, 1])]
    request = call_request("f", args, {}, grad_wrt=(0,))
    reply = replies.Reply(kind="tensor", value=torch.zeros(()), device="cpu", grads=[torch.zeros(5, 4)])
    bench("fit_call, a value and one gradient", lambda: replies.fit_call(reply, request), 20000)
    spec = ex07.MLP
    state = {k: torch.randn(v.shape, dtype=v.dtype) for k, v in _drivers.build_model(spec).state_dict().items()}
    batch = (torch.randn(6, 4, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64))
    params = {"model_spec": spec, "state_dict": state, "optimizer_spec": ex07.SGD, "loss": "mse", "batches": [batch] * 3}
    reference = runner.reference(catalog.resolve("ex07"))
    report = _drivers.train_steps(types.SimpleNamespace(train_step=reference.train_step), **params)
    value = replies.Reply(kind="value", value=report)

    def drive() -> None:
        schema = _SCHEMAS.get(("train_steps", spec, 3), lambda: replies.report_schema("train_steps", params))
        replies.fit_drive(value, schema)

    bench("fit_drive, a 3-step train_steps report (its schema kept)", drive, 2000)
    bench("report_schema, made anew", lambda: replies.report_schema("train_steps", params), 500)
    for name in ("ex03_cross_entropy.py", "ex09_custom.py"):
        source = (SOLUTIONS / name).read_text()
        files = {name: source}
        bench(f"scan of solutions/{name} ({len(source.splitlines())} lines)", lambda files=files: scan.scan(files), 200)


if __name__ == "__main__":
    main()

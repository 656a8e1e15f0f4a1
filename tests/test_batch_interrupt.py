"""Ctrl-C in the middle of a class: every finished submission stays saved and no file is
left half-written (test_batch_grade shows a rerun grading only what is not saved)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CORRECT = (Path(__file__).resolve().parents[1] / "solutions" / "ex01_mse.py").read_text(encoding="utf-8")
SLOW = "import time\ntime.sleep(8)  # still thinking (the load timeout is 10 s)\n" + CORRECT


def test_ctrl_c_keeps_every_finished_result_and_leaves_no_half_written_file(tmp_path: Path) -> None:
    folder, out = tmp_path / "class", tmp_path / "results"
    for learner, source in (("a", CORRECT), ("b", SLOW), ("c", CORRECT), ("d", CORRECT)):
        (folder / learner).mkdir(parents=True)
        (folder / learner / "ex01_mse.py").write_text(source)
    command = [sys.executable, "-m", "lossgrade", "grade", str(folder), "--out", str(out), "-e", "ex01", "--jobs", "1"]
    # A job started in the background by a non-interactive shell (a CI script's `cmd &`) ignores
    # SIGINT, and a child inherits that: give it Ctrl-C's usual meaning while it starts.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    first = out / "records" / "a.json"
    deadline = time.monotonic() + 120
    while not first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # b is being graded now
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, f"stdout: {stdout!r}\nstderr: {stderr!r}"
    assert stderr.strip().endswith("run the same command again to grade the rest.")
    assert "Traceback" not in stderr and stdout == ""
    assert [p.name for p in out.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"] == []
    saved = sorted(p.name for p in (out / "records").iterdir())
    assert saved[0] == "a.json" and "d.json" not in saved
    for path in (out / "records").iterdir():
        assert json.loads(path.read_text(encoding="utf-8"))["result"]["learner"] == path.stem


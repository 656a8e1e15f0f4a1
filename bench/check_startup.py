"""How long `lossgrade check ex03` takes on untouched stubs, next to `import torch, pytest`.

Target (issue "Grades no learner can forge"; the learner's loop asked for 2x): under 1.3x the
bare import, with the sandbox's kernel walls and source scan in place, measured side by side on the
same machine in one run. Each command runs --repeat times, alternating, and the medians
are compared.

    python bench/check_startup.py [--repeat 5] [--exercise ex03]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--exercise", default="ex03")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "work"
        subprocess.run([sys.executable, "-m", "lossgrade", "init", str(workspace)], check=True, stdout=subprocess.DEVNULL)
        baseline_cmd = [sys.executable, "-c", "import torch, pytest"]
        check_cmd = [sys.executable, "-m", "lossgrade", "check", args.exercise]
        baseline, check = [], []
        for _ in range(args.repeat):
            baseline.append(timed(baseline_cmd, workspace))
            check.append(timed(check_cmd, workspace))
    b, c = statistics.median(baseline), statistics.median(check)
    print(f"python -c 'import torch, pytest'      median {b:.2f} s  ({', '.join(f'{t:.2f}' for t in baseline)})")
    print(f"lossgrade check {args.exercise} (untouched stub) median {c:.2f} s  ({', '.join(f'{t:.2f}' for t in check)})")
    print(f"ratio {c / b:.2f}x  (target < 1.3x): {'met' if c / b < 1.3 else 'NOT met'}")


if __name__ == "__main__":
    main()

"""Let the sandbox's workers, which run as uids of their own, reach the Python installation
and torch: grant traversal (not listing) of every folder above them that lacks it. Run as
root, by CI and by the device check (pyenv and some images keep Python under /root, mode 700)."""
import os
import sys
from pathlib import Path

import torch

for path in {Path(sys.executable).resolve(), Path(torch.__file__).resolve()}:
    for folder in path.parents:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            os.chmod(folder, mode | 0o001)
            print(f"allowed traversal of {folder} for the sandbox's workers")

"""bench/gpu_check.sh --dry-run: every path the GPU check times runs, at tiny sizes on the
CPU, and the table names each of them with a figure."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_dry_run_fills_every_row():
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run([str(ROOT / "bench" / "gpu_check.sh"), "--dry-run"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    names = " ".join(line.split(" | ")[0] for line in rows)
    for path in ("SAM-G tiny fp32, batch 1", "student", "BC training step", "DrQ-v2 update", "--envs 1", "--envs 2"):
        assert path in names, done.stdout
    for line in rows:
        figure = line.split(" | ")[1]
        assert float(figure.split()[0]) > 0, line

"""bench/paper_protocol.sh --dry-run: collect, train with the paper preset, evaluate and
tabulate, at tiny sizes on the CPU."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.helpers import random_expert_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_paper_protocol_dry_run_writes_table_3(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(tmp_path / "out"),
           "EXPERT_FILE": str(random_expert_file(tmp_path))}  # fmt: skip
    done = subprocess.run([str(ROOT / "bench" / "paper_protocol.sh"), "--dry-run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = (tmp_path / "out" / "table3.md").read_text()
    assert "| door | masked (oracle) | 1 |" in table and "| door | raw | 1 |" in table, table
    assert (tmp_path / "out" / "door_masked_s0" / "config.json").read_text().count('"preset": "paper"') == 1
    times = (tmp_path / "out" / "times.md").read_text().splitlines()
    assert len(times) == 3 and times[0].startswith("| door | collect 6 demos |")

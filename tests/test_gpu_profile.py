"""bench/gpu_profile.py --tiny: every stage of a SAM-G batch and of a DrQ-v2 update is timed,
at tiny sizes on the CPU, and each table row has a figure."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMG_STAGES = ("host-to-device", "SAM preprocess", "SAM image encoder", "DINOv2", "similarity + prompt selection",
               "decoder round 1", "decoder round 2", "decoder round 3", "device-to-host")  # fmt: skip
DRQV2_STAGES = ("replay sampling", "host-to-device", "augmentation", "critic", "actor", "target critic", "metrics")


@pytest.mark.slow
def test_gpu_profile_tiny_times_every_stage(tmp_path):
    out = tmp_path / "profile.md"
    done = subprocess.run([sys.executable, "bench/gpu_profile.py", "--tiny", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    samg, drqv2 = out.read_text().split("**DrQ-v2")
    for text, stages in ((samg, SAMG_STAGES), (drqv2, DRQV2_STAGES)):
        cells = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in text.splitlines()
                 if line.startswith("| ")]  # fmt: skip
        rows = {row[0]: row[1:] for row in cells}
        for stage in stages:
            name = next((row for row in rows if row.startswith(stage)), None)
            assert name is not None, (stage, text)
            host, device = float(rows[name][0]), float(rows[name][1])
            assert host > 0 and device > 0, (name, rows[name])
        wall = next(row for row in rows if row.startswith("wall per step"))
        assert float(rows[wall][2].split()[0]) > 0
    assert "host syncs in the decoder rounds: not checked (CPU)" in samg

"""`samg bc train --devices 2 --strategy ddp` on CPU (gloo): two processes train one run,
rank 0 alone writes it, and it resumes. Through the command in a subprocess, since Lightning
starts the second rank by running the same command again."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from samg.il.config import BCConfig, RunError
from samg.il.train import train_bc
from tests.pipeline.helpers import synthetic_store

ROOT = Path(__file__).resolve().parents[2]


def _train(store: Path, run: Path, *flags: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "samg.cli", "bc", "train", "--data", str(store), "--out", str(run), "--accelerator",
               "cpu", "--devices", "2", "--strategy", "ddp", "--batch-size", "8", *flags]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "COLUMNS": "200"}  # fmt: skip
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_two_ddp_processes_train_one_run_and_resume_it(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr", episodes=4, length=20, action_dim=28, proprio_dim=24).path
    run = tmp_path / "run"
    first = _train(store, run, "--epochs", "1")
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count("trained ") == 1  # one rank reports
    training = json.loads((run / "training.json").read_text())
    # 4 demos, none held out at val_fraction 0.1: 80 samples, 8 a step over both devices: 10 steps, as on one device
    assert training["global_step"] == 10 and training["samples"] == 80 and len(training["parts"]) == 1
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert json.loads((run / "config.json").read_text())["strategy"] == "ddp"
    saved = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert saved["global_step"] == 10

    resumed = _train(store, run, "--epochs", "2", "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    training = json.loads((run / "training.json").read_text())
    assert training["global_step"] == 20 and [part["from_step"] for part in training["parts"]] == [0, 10]
    with open(run / "logs" / "metrics.csv", newline="") as handle:
        epochs = {row["epoch"] for row in csv.DictReader(handle)}
    assert epochs == {"0", "1"}  # the first part's rows are kept


def test_the_global_batch_must_split_evenly_over_the_devices(tmp_path):
    store = synthetic_store(tmp_path / "door.zarr", episodes=2, action_dim=28, proprio_dim=24).path
    config = BCConfig(data=store, out=tmp_path / "run", batch_size=7, accelerator="cpu", devices="2", strategy="ddp_spawn")
    with pytest.raises(RunError, match="--batch-size 7 is the global batch: it must split evenly over 2 devices"):
        train_bc(config, progress=False)

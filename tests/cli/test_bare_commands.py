"""The card's commands as typed: `samg bc train` and `samg eval --settings all` with no
store or run named, in a folder holding one store / one run; and `--device cuda` refused
on a machine without CUDA."""

import json

import pytest
import torch
from typer.testing import CliRunner

from samg.cli import app
from tests.pipeline.helpers import synthetic_store

runner = CliRunner()
ENV = {"COLUMNS": "200"}
DOOR = {"action_dim": 28, "proprio_dim": 24}  # a policy trained on it runs in the live door


def test_bare_bc_train_then_bare_eval(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    synthetic_store(tmp_path / "data" / "door.zarr", episodes=2, **DOOR)
    trained = runner.invoke(app, ["bc", "train", "--max-steps", "1", "--batch-size", "8", "--accelerator", "cpu"], env=ENV)
    assert trained.exit_code == 0, trained.output
    run = tmp_path / "runs" / "door_masked_oracle_s0"
    assert json.loads((run / "config.json").read_text())["data"] == "data/door.zarr"

    older = tmp_path / "runs" / "older"  # a finished run trained before: not the newest
    older.mkdir()
    (older / "demos.json").write_text((run / "demos.json").read_text())
    (older / "training.json").write_text("{}")
    training = run / "training.json"
    training.touch()  # the newest finished training
    evaluated = runner.invoke(app, ["eval", "--settings", "all", "--episodes", "1", "--videos", "0", "--envs", "5"], env=ENV)
    assert evaluated.exit_code == 0, evaluated.output
    assert "evaluating the newest run, runs/door_masked_oracle_s0" in evaluated.output
    info = json.loads((run / "eval" / "eval_info.json").read_text())
    assert len(info["per_episode"]) == 5 and not (older / "eval").exists()


def test_bare_commands_name_what_is_missing_or_ambiguous(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    no_store = runner.invoke(app, ["bc", "train"], env=ENV)
    assert no_store.exit_code == 1 and "samg collect" in no_store.output and len(no_store.output.splitlines()) == 1
    no_run = runner.invoke(app, ["eval"], env=ENV)
    assert no_run.exit_code == 1 and "samg bc train" in no_run.output and len(no_run.output.splitlines()) == 1
    for name in ("door.zarr", "hammer.zarr"):
        (tmp_path / "data" / name).mkdir(parents=True)
    two = runner.invoke(app, ["bc", "train"], env=ENV)
    assert two.exit_code == 1 and len(two.output.splitlines()) == 1
    assert "2 stores (door.zarr, hammer.zarr): pick one with --data" in two.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["eval", "runs/x", "--device", "cuda"],
        ["segment", "data/door.zarr", "--device", "cuda"],
        ["distill", "data/door.zarr", "--device", "cuda"],
        ["rl", "train", "cartpole_swingup", "--device", "cuda", "--out", "runs/rl"],
    ],
)
def test_cuda_is_refused_in_one_line_without_cuda(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    refused = runner.invoke(app, command, env=ENV)
    assert refused.exit_code == 1 and len(refused.output.splitlines()) == 1, refused.output
    assert "this machine has no CUDA device; use --device cpu" in refused.output


def test_auto_means_cuda_only_where_there_is_one(monkeypatch):
    from samg.devices import DeviceError, resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu" and resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("auto") == "cuda" and resolve_device("cuda:0") == "cuda:0"
    with pytest.raises(DeviceError, match="has 1 CUDA device"):
        resolve_device("cuda:1")
    with pytest.raises(DeviceError, match="unknown device 'gpu'"):
        resolve_device("gpu")

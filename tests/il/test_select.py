"""Checkpoint selection by closed-loop success, and the arm-joint proprioception, end to end."""

import csv
import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from samg.cli import app
from samg.il.config import BCConfig
from samg.il.rollout import EpisodeResult
from samg.il.select import ClosedLoopSelection, selection_score
from samg.il.train import train_bc
from samg.rl_collect.collect import CollectConfig, collect
from tests.pipeline.helpers import random_expert_file

runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """Six real door episodes (a random expert) at 16 px: five to train on, one held out."""
    root = tmp_path_factory.mktemp("select")
    config = CollectConfig(
        task="door", episodes=6, out=root / "door.zarr", settings=("train",), workers=1, image_size=16,
        keep_failures=True, expert_path=random_expert_file(root),
    )  # fmt: skip
    return collect(config).path


def test_more_successes_win_and_the_validation_loss_breaks_ties():
    assert selection_score(3, 50.0) > selection_score(2, 0.0) > selection_score(2, 0.1) > selection_score(1, 0.0)
    assert selection_score(0, 1e9) > -1


def test_best_checkpoint_is_the_epoch_with_the_most_successes(store, tmp_path, monkeypatch):
    successes_by_epoch = iter([0, 2, 1])

    def scripted(self, policy):
        wins = next(successes_by_epoch)
        return [EpisodeResult("train", seed, i < wins, 0.0, 200, 0) for i, seed in enumerate(self.seeds)]

    monkeypatch.setattr(ClosedLoopSelection, "rollouts", scripted)
    config = BCConfig(
        data=store, out=tmp_path / "run", epochs=3, batch_size=64, lr=1e-3, select_episodes=2, accelerator="cpu"
    )
    run = train_bc(config, progress=False)
    best = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)
    assert best["epoch"] == 1  # not the last epoch, nor the one with the lowest validation loss by chance
    rows = [row for row in csv.DictReader((run / "logs" / "metrics.csv").open()) if row["val/success"]]
    assert [float(row["val/success"]) for row in rows] == [0.0, 1.0, 0.5]


@pytest.mark.parametrize("proprio, dropout, dim", [("hand+arm", 0.5, 28), ("none", 0.0, 0)])
def test_live_selection_and_proprio_switches_train_and_evaluate(store, tmp_path, proprio, dropout, dim):
    run = tmp_path / "arm"
    args = ["bc", "train", "--data", str(store), "--out", str(run), "--epochs", "1", "--batch-size", "64",
            "--select-episodes", "2", "--proprio", proprio, "--proprio-dropout", str(dropout), "--accelerator", "cpu"]  # fmt: skip
    trained = runner.invoke(app, args)
    assert trained.exit_code == 0, trained.output
    config = json.loads((run / "config.json").read_text())
    assert (config["preset"], config["proprio"], config["proprio_dropout"]) == ("default", proprio, dropout)
    assert config["select_episodes"] == 2
    hparams = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)["hyper_parameters"]
    assert (hparams["proprio_dim"], hparams["proprio_dropout"]) == (dim, dropout)
    rows = [row for row in csv.DictReader((run / "logs" / "metrics.csv").open()) if row["val/success"]]
    assert len(rows) == 1 and float(rows[0]["val/success"]) in (0.0, 0.5, 1.0)
    evaluated = runner.invoke(app, ["eval", str(run), "--settings", "train", "--episodes", "1", "--videos", "0"])
    assert evaluated.exit_code == 0, evaluated.output


def test_selection_needs_held_out_episodes(store, tmp_path):
    config = BCConfig(data=store, out=tmp_path / "run", epochs=1, demos=5, select_episodes=2, accelerator="cpu")
    with pytest.raises(Exception, match="hold none out: use at least 6 demos"):
        train_bc(config, progress=False)

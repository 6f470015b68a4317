"""`samg eval --scheduler`: lockstep groups of episodes as dask tasks on a real scheduler
and two workers (127.0.0.1); the policy travels as bytes, and per_episode is the local one."""

import json

import pytest

from samg.il.config import BCConfig
from samg.il.evaluate import EvalConfig, evaluate
from samg.il.train import train_bc
from tests.dask_cluster import LocalDaskCluster
from tests.pipeline.helpers import synthetic_store

SEEDS = (1_000_000, 1_000_001)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval_dask")
    store = synthetic_store(root / "door.zarr", episodes=2, action_dim=28, proprio_dim=24)
    return train_bc(BCConfig(data=store.path, out=root / "run", batch_size=8, max_steps=2, accelerator="cpu"), progress=False)


def _evaluate(run, out, **parallel) -> dict:
    evaluate(EvalConfig(run=run, settings=("train",), seeds=SEEDS, videos=1, out=out, **parallel))
    return json.loads((out / "eval_info.json").read_text())


@pytest.mark.slow
def test_two_dask_workers_give_the_local_per_episode(run, tmp_path):
    local = _evaluate(run, tmp_path / "local")
    cluster = LocalDaskCluster(tmp_path / "dask", workers=2)
    (tmp_path / "dask").mkdir()
    try:
        cluster.start()
        remote = _evaluate(run, tmp_path / "remote", scheduler=cluster.address)  # a task per episode
    finally:
        cluster.stop()
    assert len(local["per_episode"]) == 2 and remote["per_episode"] == local["per_episode"]
    assert remote["aggregate"] == local["aggregate"]
    assert sorted(p.name for p in (tmp_path / "remote" / "videos").iterdir()) == ["train_seed1000000.mp4"]

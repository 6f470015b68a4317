"""`--envs N` steps N live door episodes in lockstep; each episode's result is the one it
gets alone (`--envs 1`), whatever N and however the processes split the work."""

import json

import numpy as np
import pytest
import torch

from samg.il.config import BCConfig
from samg.il.evaluate import EvalConfig, evaluate
from samg.il.policy import BCPolicy
from samg.il.train import train_bc
from tests.pipeline.helpers import synthetic_store

SEEDS = (1_000_000, 1_000_001, 1_000_002, 1_000_003)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("lockstep")
    store = synthetic_store(root / "door.zarr", episodes=2, action_dim=28, proprio_dim=24)
    config = BCConfig(data=store.path, out=root / "run", batch_size=8, max_steps=2, accelerator="cpu")
    return train_bc(config)


def _per_episode(run, out, **parallel) -> list[dict]:
    config = EvalConfig(run=run, settings=("train", "video_hard"), seeds=SEEDS, videos=1, out=out, **parallel)
    evaluate(config)
    return json.loads((out / "eval_info.json").read_text())["per_episode"]


def test_envs_4_gives_the_episodes_of_envs_1(run, tmp_path):
    alone = _per_episode(run, tmp_path / "envs1")
    assert len(alone) == 8 and len({e["return"] for e in alone}) == 8  # the policy's actions matter
    assert _per_episode(run, tmp_path / "envs4", envs=4) == alone
    assert _per_episode(run, tmp_path / "envs3x2", envs=3, workers=2) == alone  # batches of 3, 3 and 2
    videos = sorted(p.name for p in (tmp_path / "envs4" / "videos").iterdir())
    assert videos == ["train_seed1000000.mp4", "video_hard_seed1000000.mp4"]


def test_act_batch_gives_each_row_its_own_bits():
    torch.manual_seed(0)
    normalizer = {"proprio_mean": [0.5] * 5, "proprio_std": [2.0] * 5, "action_mean": [0.1] * 3, "action_std": [0.5] * 3}
    policy = BCPolicy(9, 32, 5, 3, normalizer).eval()
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (6, 9, 32, 32), dtype=np.uint8)
    proprio = rng.normal(size=(6, 5)).astype(np.float32)
    batched = policy.act_batch(frames, proprio)
    assert np.array_equal(batched, np.stack([policy.act(f, p) for f, p in zip(frames, proprio, strict=True)]))
    with torch.no_grad():
        forward = policy(torch.as_tensor(frames), torch.as_tensor(proprio)) * policy.action_std + policy.action_mean
    np.testing.assert_allclose(batched, forward.clamp(-1, 1).numpy(), atol=1e-5)

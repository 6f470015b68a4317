"""Test inputs: a tiny seeded MLP expert saved as .npz (worker processes load it by path)
and a synthetic demo store."""

from pathlib import Path

import numpy as np

from samg.envs import get_task
from samg.pipeline.store import DemoStore, StorePlan
from samg.rl_collect.mjrl_pickle import MlpPolicyWeights


def random_expert_file(directory: Path, state_dim: int = 39, action_dim: int = 28, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    sizes = (state_dim, 8, action_dim)
    weights = MlpPolicyWeights(
        weights=tuple(rng.normal(0, 0.5, (b, a)) for a, b in zip(sizes[:-1], sizes[1:])),
        biases=tuple(rng.normal(0, 0.1, b) for b in sizes[1:]),
        in_shift=np.zeros(state_dim),
        in_scale=np.ones(state_dim),
        out_shift=np.zeros(action_dim),
        out_scale=np.ones(action_dim),
        log_std=np.zeros(action_dim),
        nonlinearity="tanh",
    )
    path = directory / "random-door-expert.npz"
    weights.save_npz(path)
    return path


def synthetic_store(
    path: Path,
    episodes: int = 3,
    length: int = 20,
    size: int = 16,
    settings: tuple[str, ...] = ("train", "video_hard"),
    action_dim: int = 2,
    proprio_dim: int = 2,
) -> DemoStore:
    """A complete door-format store without simulation: two moving squares (object ids 1
    and 2) on a background that differs per setting; chunks of `length` steps. With the
    door's dimensions (action 28, proprio 24), a policy trained on it can be evaluated."""
    rng = np.random.default_rng(0)
    plan = StorePlan(
        task="door", env_id="synthetic", camera="vil_camera", image_size=size, settings=settings,
        episodes=episodes, episode_length=length, seed=0, keep_failures=True, expert="synthetic",
        expert_sha256="-", mask_objects=("hand", "door"), action_dim=action_dim, state_dim=3, proprio_dim=proprio_dim,
        sim_state_dim=4, benchmark={"name": "synthetic", "files": {}, "missing": []},
    )  # fmt: skip
    store = DemoStore.create(path, plan)
    for episode in range(episodes):
        ids = np.zeros((length, size, size), np.uint8)
        for t in range(length):
            x = (episode + t) % (size // 2)
            ids[t, 2:7, x : x + 5] = 1
            ids[t, size - 6 : size - 2, size - 6 - x // 2 : size - 2 - x // 2] = 2
        steps = {
            "data/action": rng.normal(size=(length, action_dim)).astype(np.float32),
            "data/state": rng.normal(size=(length, 3)).astype(np.float32),
            "data/proprio": rng.normal(size=(length, proprio_dim)).astype(np.float32),
            "data/reward": np.zeros(length, np.float32),
            "data/success": np.ones(length, bool),
            "data/sim_state": np.zeros((length, 4)),
            "masks/gt": ids,
        }
        for index, setting in enumerate(settings):
            background = rng.integers(0, 255, (length, size, size, 3), dtype=np.uint8) if index else 90
            frames = np.broadcast_to(np.asarray(background, np.uint8), (length, size, size, 3)).copy()
            frames[ids == 1] = (200, 160, 120)
            frames[ids == 2] = (60, 60, 200)
            steps[f"images/{setting}/rgb"] = frames
        store.write_episode(episode, steps)
        success = get_task("door").episode_success(steps["data/success"])
        store.commit_episode(episode, seed=episode, success=success, next_seed=episode + 1, seeds_tried=episode + 1)
    store.mark_complete()
    return store

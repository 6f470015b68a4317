"""A tiny seeded MLP expert saved as .npz (worker processes load it by path)."""

from pathlib import Path

import numpy as np

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

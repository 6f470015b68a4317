import numpy as np
import pytest

import samg.envs  # noqa: F401  (prepares off-screen GL before any test imports mujoco)
from samg.envs import FrameRenderer, make_env


class EpisodeStart:
    """A task's env reset with a seed, and a renderer for it."""

    def __init__(self, task: str, seed: int = 7):
        self.env = make_env(task)
        self.seed = seed
        self.first = self.env.reset(seed)
        self.renderer = FrameRenderer(self.env.task, self.env.model)

    def close(self) -> None:
        self.renderer.close()
        self.env.close()


@pytest.fixture(scope="session")
def episode_starts():
    """Lazily built, shared per task: creating envs and GL contexts is the slow part."""
    cache: dict[str, EpisodeStart] = {}

    def get(task: str) -> EpisodeStart:
        if task not in cache:
            cache[task] = EpisodeStart(task)
        return cache[task]

    yield get
    for start in cache.values():
        start.close()


@pytest.fixture
def rng():
    return np.random.default_rng(0)

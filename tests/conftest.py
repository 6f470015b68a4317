import os
from pathlib import Path

import numpy as np
import pytest

import samg.envs  # noqa: F401  (prepares off-screen GL before any test imports mujoco)
from samg.benchmark.assets import ALLOW_MISSING_ENV, import_assets

# The benchmark files: CI and developers have the workplace's copy beside the repository;
# elsewhere, run `samg assets fetch` first (tests then use $SAMG_HOME as it is).
SHARED_BENCHMARK = Path(__file__).resolve().parents[2] / "shared" / "benchmark"


@pytest.fixture(scope="session", autouse=True)
def benchmark_files(tmp_path_factory):
    """A private $SAMG_HOME holding the benchmark files (this workplace's copy lacks 5)."""
    if SHARED_BENCHMARK.is_dir():
        home = tmp_path_factory.mktemp("samg_home")
        os.environ["SAMG_HOME"] = str(home)
        import_assets(SHARED_BENCHMARK, home / "benchmark")
        os.environ[ALLOW_MISSING_ENV] = "1"
    yield
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

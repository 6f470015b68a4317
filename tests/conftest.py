"""Shared fixtures, and the benchmark files the tests render with.

The tests take the benchmark from the folder SAMG_TEST_BENCHMARK names, else from the
workplace's copy beside the repository (../shared/benchmark), imported into a private
$SAMG_HOME; else from $SAMG_HOME as `samg assets fetch` or `import` left it. Files absent
there are named once, in the session's header; the tests run without them (a draw moves
on to the next present file, as with --allow-missing-assets), and a test that needs one
skips, naming it.
"""

import os
from pathlib import Path

import numpy as np
import pytest

import samg.envs  # noqa: F401  (prepares off-screen GL before any test imports mujoco)
from samg.benchmark.assets import ALLOW_MISSING_ENV, AbsentAssetsError, benchmark_root, import_assets
from samg.benchmark.manifest import MANIFEST
from samg.envs import FrameRenderer, make_env

TEST_BENCHMARK_ENV = "SAMG_TEST_BENCHMARK"
SHARED_BENCHMARK = Path(__file__).resolve().parents[2] / "shared" / "benchmark"


def _source() -> Path | None:
    """The folder the session imports the benchmark from; None: $SAMG_HOME's as it is."""
    named = os.environ.get(TEST_BENCHMARK_ENV)
    if named:
        return Path(named)
    return SHARED_BENCHMARK if SHARED_BENCHMARK.is_dir() else None


def _absent(root: Path) -> list[str]:
    return [name for name in MANIFEST if not (root / name).is_file()]


def pytest_configure(config):
    source = _source()
    if source is not None and not source.is_dir():
        raise pytest.UsageError(f"{TEST_BENCHMARK_ENV}={source} is not a folder: give a copy of the benchmark, or unset it")


def pytest_report_header(config) -> str:
    source = _source()
    root = source or benchmark_root()
    where = f"{root} (imported into a private $SAMG_HOME)" if source else f"$SAMG_HOME's {root}"
    absent = _absent(root)
    if not absent:
        return f"benchmark: all {len(MANIFEST)} files in {where}"
    shown = ", ".join(absent[:6]) + (f" and {len(absent) - 6} more" if len(absent) > 6 else "")
    return (
        f"benchmark: {len(absent)} of {len(MANIFEST)} files absent from {where}: {shown}; the tests run without "
        "them and those that need one skip; 'samg assets fetch' (or 'samg assets import DIR') brings them"
    )


@pytest.fixture(scope="session", autouse=True)
def benchmark_files(tmp_path_factory):
    """The session's benchmark (see the module's docstring); absent files allowed."""
    source = _source()
    if source is not None:
        home = tmp_path_factory.mktemp("samg_home")
        os.environ["SAMG_HOME"] = str(home)
        import_assets(source, home / "benchmark")
    if _absent(benchmark_root()):  # also a file of the source that is not the pinned bytes
        os.environ[ALLOW_MISSING_ENV] = "1"
    yield


def require_benchmark_files(*names: str) -> None:
    """Skip the calling test where a benchmark file it reads is absent, naming it."""
    absent = [name for name in names if not (benchmark_root() / name).is_file()]
    if absent:
        pytest.skip(f"needs benchmark file(s) absent here: {', '.join(absent)}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test (or, as setup, a fixture) that fails after samg found a benchmark file it needs
    absent (to read it, or to draw from a pool none of whose files are here) skips, naming
    them; seen where raised, since a command run through CliRunner turns it into an exit code."""
    absent: list[str] = []
    init = AbsentAssetsError.__init__

    def seen(error, names, message):
        absent.extend(name for name in names if name not in absent)
        init(error, names, message)

    AbsentAssetsError.__init__ = seen
    try:
        return (yield)
    except Exception:
        if absent:
            pytest.skip(f"needs benchmark file(s) absent here: {', '.join(absent)}")
        raise
    finally:
        AbsentAssetsError.__init__ = init


pytest_runtest_setup = pytest_runtest_call


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

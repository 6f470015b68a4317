"""`samg collect --scheduler`: episodes as dask tasks on a real scheduler and two workers
(127.0.0.1), the store byte for byte the one a local collection writes, also when a worker
is killed halfway."""

import json
from pathlib import Path

import pytest
import zarr

from samg.rl_collect.collect import CollectConfig, collect
from tests.dask_cluster import LocalDaskCluster
from tests.pipeline.helpers import random_expert_file

TIMING_ATTRIBUTES = ("collect_seconds", "frames_per_second")  # wall time, not content


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = LocalDaskCluster(tmp_path_factory.mktemp("dask"), workers=2)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def expert(tmp_path_factory) -> Path:
    return random_expert_file(tmp_path_factory.mktemp("expert"))


def _config(out: Path, expert: Path, **overrides) -> CollectConfig:
    values = dict(task="door", episodes=4, out=out, settings=("train",), seed=0, workers=1, image_size=16,
                  keep_failures=True, expert_path=expert)  # fmt: skip
    return CollectConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def local_store(tmp_path_factory, expert) -> Path:
    return collect(_config(tmp_path_factory.mktemp("local") / "door.zarr", expert)).path


def store_contents(path: Path) -> tuple[dict, dict]:
    """Every array's bytes and every group and array attribute, timings left out."""
    group = zarr.open_group(path, mode="r")
    attrs = {key: value for key, value in group.attrs.items() if key not in TIMING_ATTRIBUTES}
    arrays = {}

    def visit(node, prefix=""):
        for name, child in node.members():
            key = f"{prefix}{name}"
            if isinstance(child, zarr.Array):
                arrays[key] = (child[...], dict(child.attrs), str(child.dtype), child.chunks)
            else:
                attrs[key] = dict(child.attrs)
                visit(child, f"{key}/")
    visit(group)
    return attrs, arrays


def assert_same_store(path: Path, reference: Path) -> None:
    attrs, arrays = store_contents(path)
    expected_attrs, expected_arrays = store_contents(reference)
    assert json.dumps(attrs, sort_keys=True) == json.dumps(expected_attrs, sort_keys=True)
    assert arrays.keys() == expected_arrays.keys()
    for key, (values, *about) in arrays.items():
        expected_values, *expected_about = expected_arrays[key]
        assert about == expected_about, key
        assert values.tobytes() == expected_values.tobytes(), key


@pytest.mark.slow
def test_four_episodes_through_two_workers_are_the_local_store(cluster, local_store, expert, tmp_path):
    store = collect(_config(tmp_path / "door.zarr", expert, scheduler=cluster.address))
    assert store.n_episodes == 4 and store.complete
    assert_same_store(store.path, local_store)


@pytest.mark.slow
def test_a_worker_killed_mid_collection_loses_only_its_episodes(cluster, local_store, expert, tmp_path):
    killed = []

    def kill_after_the_first(progress) -> None:
        if progress.committed >= 1 and not killed:
            cluster.kill_worker(1)
            killed.append(progress.committed)

    store = collect(_config(tmp_path / "door.zarr", expert, scheduler=cluster.address), on_progress=kill_after_the_first)
    assert killed and killed[0] < 4  # killed while episodes were still running
    assert store.n_episodes == 4 and store.complete
    assert_same_store(store.path, local_store)

